using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using RideBooking.Data.Testing;

namespace RideBooking.Data.IntegrationTests;

/// <summary>One fresh database per test class, with the library registered through DI as a host would.</summary>
public sealed class DatabaseFixture : IAsyncLifetime
{
    private RideBookingTestDatabase? _database;
    private ServiceProvider? _services;

    public RideBookingTestDatabase Database => _database ?? throw new InvalidOperationException("Not initialized.");

    /// <summary>The application account's connection string (schema/grants/02_application_user.sql): what the library gets.</summary>
    public string ConnectionString => Database.ConnectionString;

    /// <summary>The administrator's connection string, for what no account of the library may do (DDL, KILL of others, server state).</summary>
    public string AdminConnectionString => Database.ConnectionStringFor(RideBookingTestAccount.Administrator);

    /// <summary>The migration account's connection string (schema/grants/01_migration_user.sql), which applies the schema.</summary>
    public string MigrationConnectionString => Database.ConnectionStringFor(RideBookingTestAccount.Migration);

    /// <summary>The application account's user name, for grants on test-only tables.</summary>
    public string ApplicationUser => new MySqlConnectionStringBuilder(ConnectionString).UserID;

    public IServiceProvider Services => _services ?? throw new InvalidOperationException("Not initialized.");

    public IUserRepository Users => Services.GetRequiredService<IUserRepository>();

    public IDriverRepository Drivers => Services.GetRequiredService<IDriverRepository>();

    public IRideRepository Rides => Services.GetRequiredService<IRideRepository>();

    public IPaymentRepository Payments => Services.GetRequiredService<IPaymentRepository>();

    public IRideBookingService Booking => Services.GetRequiredService<IRideBookingService>();

    public async Task InitializeAsync()
    {
        _database = await RideBookingTestDatabase.CreateAsync();
        _services = BuildServices(_database.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    public static ServiceProvider BuildServices(string connectionString, Action<RideBookingOptions>? configure = null, Microsoft.Extensions.Logging.ILoggerProvider? logs = null, Action<IServiceCollection>? register = null)
    {
        var services = new ServiceCollection();
        register?.Invoke(services);
        if (logs is not null)
        {
            services.AddLogging(builder => builder.AddProvider(logs));
        }

        services.AddRideBookingData(o =>
        {
            o.ConnectionString = connectionString;
            configure?.Invoke(o);
        });
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public async Task<MySqlConnection> OpenAsync()
    {
        var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>A connection as the administrator, for setup the application account may not do.</summary>
    public async Task<MySqlConnection> OpenAdminAsync()
    {
        var connection = new MySqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>CHECKSUM TABLE of every table: equal before and after means nothing was written.</summary>
    public async Task<string> ChecksumAsync()
    {
        await using var connection = await OpenAsync();
        var rows = await connection.QueryAsync("CHECKSUM TABLE users, drivers, rides, payments, driver_earnings");
        return string.Join(";", rows.Select(r => $"{r.Table}={r.Checksum}"));
    }

    private int _counter;

    /// <summary>A phone number unique within this database.</summary>
    public string NextPhone() => $"+1555{Interlocked.Increment(ref _counter):D7}";

    public Task<User> NewUserAsync() => Users.CreateAsync("Rider " + Guid.NewGuid().ToString("N")[..6], NextPhone());

    public Task<Driver> NewDriverAsync() => Drivers.CreateAsync("Driver " + Guid.NewGuid().ToString("N")[..6], "KA-" + Random.Shared.Next(1000, 9999));
}
