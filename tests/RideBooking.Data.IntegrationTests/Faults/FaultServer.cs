using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Internal;
using RideBooking.Data.Testing;

namespace RideBooking.Data.IntegrationTests.Faults;

/// <summary>
/// Fault tests stop, crash, restart and lock their server, and check it from outside (processlist, innodb_trx): they run
/// one at a time, each class on a dedicated server, never the shared per-process test server.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultTestGroup
{
    public const string Name = "Faults";
}

/// <summary>A dedicated server for one fault test class.</summary>
public sealed class FaultServerFixture : IAsyncLifetime
{
    private RideBookingTestServer? _server;

    public RideBookingTestServer Server => _server ?? throw new InvalidOperationException("Not initialized.");

    public async Task InitializeAsync() => _server = await RideBookingTestServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>The library over a dedicated server, with its own meter counted.</summary>
internal sealed class FaultServices : IAsyncDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _counts = new();

    public FaultServices(string connectionString, Action<RideBookingOptions>? configure = null, CapturingLoggerProvider? logs = null)
    {
        Provider = DatabaseFixture.BuildServices(connectionString, configure, logs);
        var meter = Provider.GetRequiredService<RideBookingMetrics>().Meter;
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = instrument.Name;
            foreach (var tag in tags)
            {
                if (tag.Key == "reason")
                {
                    key += ":" + tag.Value;
                }
            }

            _counts.AddOrUpdate(key, value, (_, old) => old + value);
        });
        _listener.Start();
    }

    public ServiceProvider Provider { get; }

    public IUserRepository Users => Provider.GetRequiredService<IUserRepository>();

    public IDriverRepository Drivers => Provider.GetRequiredService<IDriverRepository>();

    public IRideRepository Rides => Provider.GetRequiredService<IRideRepository>();

    public IPaymentRepository Payments => Provider.GetRequiredService<IPaymentRepository>();

    public IRideBookingService Booking => Provider.GetRequiredService<IRideBookingService>();

    public TransactionRunner Runner => Provider.GetRequiredService<TransactionRunner>();

    /// <summary>Retries counted by reason ("connection_failure", "unknown_commit", "lock_wait_timeout", ...).</summary>
    public long Retries(string reason) => _counts.GetValueOrDefault("ridebooking.transaction.retries:" + reason);

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await Provider.DisposeAsync();
    }
}

/// <summary>Checks from outside the library.</summary>
internal static class Outside
{
    private static int _phones;

    public static string NextPhone() => $"+1666{Interlocked.Increment(ref _phones):D7}";

    /// <summary>
    /// Open transactions on the server, other than the checking session's own, once sessions that were killed have finished
    /// ending (a killed session rolls back asynchronously).
    /// </summary>
    public static async Task<long> OpenTransactionsAsync(RideBookingTestServer server)
    {
        await using var connection = new MySqlConnection(server.ServerConnectionString);
        await connection.OpenAsync();
        const string Count = "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_mysql_thread_id <> CONNECTION_ID()";
        for (var i = 0; i < 100 && await connection.ExecuteScalarAsync<long>(Count) > 0; i++)
        {
            await Task.Delay(50);
        }

        return await connection.ExecuteScalarAsync<long>(Count);
    }

    /// <summary>Which of the given sessions are still open on the server.</summary>
    public static async Task<long> OpenSessionsAsync(RideBookingTestServer server, IEnumerable<int> ids)
    {
        await using var connection = new MySqlConnection(server.ServerConnectionString);
        await connection.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM information_schema.processlist WHERE id IN @Ids", new { Ids = ids.ToArray() });
    }

    /// <summary>Sessions of the schema's database that are running a statement (not idle in a pool).</summary>
    public static async Task<long> BusySessionsAsync(RideBookingTestServer server)
    {
        await using var connection = new MySqlConnection(server.ServerConnectionString);
        await connection.OpenAsync();
        return await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM information_schema.processlist WHERE db = 'ridebooking' AND id <> CONNECTION_ID() AND command <> 'Sleep'");
    }

    /// <summary>Sessions of the schema's database.</summary>
    public static async Task<long> SessionsAsync(RideBookingTestServer server)
    {
        await using var connection = new MySqlConnection(server.ServerConnectionString);
        await connection.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM information_schema.processlist WHERE db = 'ridebooking' AND id <> CONNECTION_ID()");
    }

    public static async Task SetGlobalAsync(RideBookingTestServer server, string variable, int value)
    {
        await using var connection = new MySqlConnection(server.ServerConnectionString);
        await connection.OpenAsync();
        // A variable name cannot be a parameter; the names come from the tests themselves.
        await connection.ExecuteAsync($"SET GLOBAL {variable} = @Value", new { Value = value });
    }
}
