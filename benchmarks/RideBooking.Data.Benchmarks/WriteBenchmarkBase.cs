using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Benchmarks;

/// <summary>
/// Benchmarks that write: they run on their own database with a pool of users and drivers that
/// every iteration resets (active rides cancelled, drivers available again), outside the measurement.
/// </summary>
public abstract class WriteBenchmarkBase
{
    protected const string Database = "rb_bench_writes";

    protected string ConnectionString { get; private set; } = string.Empty;

    protected ServiceProvider Services { get; private set; } = null!;

    protected IRideBookingService Booking { get; private set; } = null!;

    internal IdGenerator Ids { get; } = new(TimeProvider.System, IdGenerator.MaxWorkerId);

    protected abstract int PoolSize { get; }

    protected long UserId(long index) => BenchmarkData.FirstId + index;

    protected long DriverId(long index) => BenchmarkData.FirstId + index;

    [GlobalSetup]
    public void GlobalSetup() => GlobalSetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void GlobalCleanup() => Services.Dispose();

    protected virtual async Task GlobalSetupAsync()
    {
        await using (var server = new MySqlConnection(BenchmarkData.ServerConnectionString))
        {
            await server.OpenAsync();
            await server.ExecuteAsync($"CREATE DATABASE IF NOT EXISTS `{Database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
        }

        ConnectionString = BenchmarkData.ConnectionString(Database);
        await RideBookingSchema.ApplyAsync(ConnectionString);
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync();
        var have = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users");
        for (var start = have; start < PoolSize; start += 500)
        {
            var rows = (int)Math.Min(500, PoolSize - start);
            await connection.ExecuteAsync(MultiRow("INSERT INTO users (id, name, phone, created_at) VALUES ", rows, "(@Id{0}, 'bench user', @Phone{0}, UTC_TIMESTAMP(6))"),
                Parameters(rows, i => new[] { ("Id", (object)UserId(start + i)), ("Phone", "+1444" + (start + i).ToString("D8", CultureInfo.InvariantCulture)) }));
            await connection.ExecuteAsync(MultiRow("INSERT INTO drivers (id, name, vehicle_number, available, created_at) VALUES ", rows, "(@Id{0}, 'bench driver', 'KA-BENCH', TRUE, UTC_TIMESTAMP(6))"),
                Parameters(rows, i => new[] { ("Id", (object)DriverId(start + i)) }));
        }

        Services = BenchmarkData.Library(Database);
        Booking = Services.GetRequiredService<IRideBookingService>();
        ResetPool();
    }

    /// <summary>Cancels every active ride and makes every driver available.</summary>
    protected void ResetPool()
    {
        using var connection = new MySqlConnection(ConnectionString);
        connection.Open();
        connection.Execute("UPDATE rides SET status = 'CANCELLED' WHERE status IN ('REQUESTED', 'ACCEPTED'); UPDATE drivers SET available = TRUE WHERE available = FALSE");
    }

    protected static string MultiRow(string head, int rows, string rowFormat)
    {
        var sql = new StringBuilder(head);
        for (var i = 0; i < rows; i++)
        {
            sql.Append(i == 0 ? string.Empty : ",").AppendFormat(CultureInfo.InvariantCulture, rowFormat, i);
        }

        return sql.ToString();
    }

    protected static DynamicParameters Parameters(int rows, Func<int, (string Name, object Value)[]> row)
    {
        var parameters = new DynamicParameters();
        for (var i = 0; i < rows; i++)
        {
            foreach (var (name, value) in row(i))
            {
                parameters.Add(name + i.ToString(CultureInfo.InvariantCulture), value);
            }
        }

        return parameters;
    }

    /// <summary>The brief's booking flow, hand-written: BEGIN, SELECT ... FOR UPDATE, UPDATE, INSERT, COMMIT.</summary>
    protected async Task<bool> BriefBookAsync(long userId, long driverId, decimal fare)
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted);
        await using (var select = new MySqlCommand("SELECT available FROM drivers WHERE id = @DriverId FOR UPDATE", connection, transaction))
        {
            select.Parameters.AddWithValue("@DriverId", driverId);
            if (await select.ExecuteScalarAsync() is not bool available || !available)
            {
                await transaction.RollbackAsync();
                return false;
            }
        }

        await using (var update = new MySqlCommand("UPDATE drivers SET available = FALSE WHERE id = @DriverId", connection, transaction))
        {
            update.Parameters.AddWithValue("@DriverId", driverId);
            await update.ExecuteNonQueryAsync();
        }

        await using (var insert = new MySqlCommand("INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at) VALUES (@Id, @UserId, @DriverId, 'REQUESTED', @Fare, @Now, @Now)", connection, transaction))
        {
            var now = DateTime.UtcNow;
            insert.Parameters.AddWithValue("@Id", Ids.Next());
            insert.Parameters.AddWithValue("@UserId", userId);
            insert.Parameters.AddWithValue("@DriverId", driverId);
            insert.Parameters.AddWithValue("@Fare", fare);
            insert.Parameters.AddWithValue("@Now", now.AddTicks(-(now.Ticks % 10)));
            await insert.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
        return true;
    }
}
