using MySqlConnector;
using RideBooking.Data.Testing.Internal;

namespace RideBooking.Data.Testing;

/// <summary>
/// A fresh, uniquely named database with the RideBooking.Data schema applied, dropped on dispose.
/// </summary>
/// <remarks>
/// The server is found once per process, in this order: the <c>RIDEBOOKING_MYSQL</c> environment
/// variable (a server connection string whose user may create databases); a <c>mysql:8.4</c>
/// container when a Docker engine answers; a local <c>mariadbd</c>/<c>mysqld</c> binary, started in a
/// temporary folder on a free port of 127.0.0.1 and removed when the process exits. When none is
/// available, <see cref="CreateAsync"/> throws an <see cref="InvalidOperationException"/> that says
/// how to provide one.
/// </remarks>
public sealed class RideBookingTestDatabase : IAsyncDisposable
{
    private readonly string _serverConnectionString;

    private RideBookingTestDatabase(TestServer server, string databaseName, string connectionString)
    {
        _serverConnectionString = server.ConnectionString;
        Source = server.Source;
        ServerDescription = server.Description;
        DatabaseName = databaseName;
        ConnectionString = connectionString;
    }

    /// <summary>Gets the connection string of this database.</summary>
    public string ConnectionString { get; }

    /// <summary>Gets the name of this database (unique per call).</summary>
    public string DatabaseName { get; }

    /// <summary>Gets where the server came from.</summary>
    public TestServerSource Source { get; }

    /// <summary>Gets a short description of the server, without credentials (for example "MariaDB 10.11.6 on 127.0.0.1:40123").</summary>
    public string ServerDescription { get; }

    /// <summary>Creates a database with the schema applied on the test server, starting the server first if needed.</summary>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The database; dispose it to drop it.</returns>
    /// <exception cref="InvalidOperationException">No server could be found or started; the message says how to provide one.</exception>
    public static async Task<RideBookingTestDatabase> CreateAsync(CancellationToken ct = default)
    {
        var server = await TestServerLocator.Shared.GetAsync(ct).ConfigureAwait(false);
        var name = Sql.NewDatabaseName();
        await Sql.CreateDatabaseAsync(server.ConnectionString, name, ct).ConfigureAwait(false);
        var connectionString = Sql.WithDatabase(server.ConnectionString, name);
        await RideBookingSchema.ApplyAsync(connectionString, ct).ConfigureAwait(false);
        return new RideBookingTestDatabase(server, name, connectionString);
    }

    /// <summary>Drops the database.</summary>
    /// <returns>A task that completes when the database is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        MySqlConnection.ClearPool(new MySqlConnection(ConnectionString));
        await Sql.DropDatabaseAsync(_serverConnectionString, DatabaseName, CancellationToken.None).ConfigureAwait(false);
    }
}
