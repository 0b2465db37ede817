using Microsoft.Extensions.Options;
using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>The one place that opens connections to the database.</summary>
internal sealed class RideBookingDataSource : IAsyncDisposable, IDisposable
{
    private readonly MySqlDataSource _dataSource;

    public RideBookingDataSource(IOptions<RideBookingOptions> options)
        : this(options.Value.ConnectionString ?? throw new InvalidOperationException("RideBookingOptions.ConnectionString is not set."))
    {
    }

    public RideBookingDataSource(string connectionString)
    {
        var builder = new MySqlConnectionStringBuilder(connectionString)
        {
            // The library's batches keep intermediate results in session variables (@rb_*).
            AllowUserVariables = true,
            // Times are stored in UTC; read them back as UTC.
            DateTimeKind = MySqlDateTimeKind.Utc,
            // Taking a connection from this pool costs no round trip: the library leaves no session
            // state that matters behind (every transaction ends in COMMIT or ROLLBACK, and the @rb_*
            // variables are assigned before they are read), so the reset on checkout is not needed.
            ConnectionReset = false,
        };
        _dataSource = new MySqlDataSourceBuilder(builder.ConnectionString)
            .UseConnectionOpenedCallback(SetSessionDefaultsAsync)
            .Build();
    }

    /// <summary>
    /// Every transaction of the library runs at READ COMMITTED: set once per physical connection, so
    /// that starting a transaction needs no statement of its own (connections are not reset in the pool).
    /// </summary>
    private static async ValueTask SetSessionDefaultsAsync(MySqlConnectionOpenedContext context, CancellationToken ct)
    {
        if ((context.Conditions & MySqlConnectionOpenedConditions.New) != 0)
        {
            var command = new MySqlCommand("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", context.Connection);
            await using (command.ConfigureAwait(false))
            {
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask<MySqlConnection> OpenConnectionAsync(CancellationToken ct)
    {
        var connection = _dataSource.CreateConnection();
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    public void Dispose() => _dataSource.Dispose();
}
