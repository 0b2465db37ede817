using MySqlConnector;

namespace RideBooking.Data.Internal;

internal sealed class DriverRepository(ShardReader reader, ShardResolver shards, TransactionRunner runner, IdGenerator ids, TimeProvider time, RideBookingMetrics metrics, ICacheInvalidation invalidation) : IDriverRepository
{
    internal const int MaxAvailableLimit = 1000;

    internal const string DriverById = """
        SELECT id AS Id, name AS Name, vehicle_number AS VehicleNumber, available AS Available, created_at AS CreatedAt
        FROM drivers WHERE id = @Id
        """;

    internal const string AvailableDrivers = """
        SELECT id AS Id, name AS Name, vehicle_number AS VehicleNumber, available AS Available, created_at AS CreatedAt
        FROM drivers WHERE available = TRUE ORDER BY id LIMIT @Limit
        """;

    private const string InsertDriver = """
        INSERT INTO drivers (id, name, vehicle_number, available, created_at) VALUES (@Id, @Name, @VehicleNumber, TRUE, @CreatedAt)
        """;

    private static readonly Func<MySqlDataReader, CancellationToken, Task<Driver?>> ReadDriver = static (r, ct) => r.ReadSingleOrDefaultAsync(Rows.Driver, ct);
    private static readonly Func<MySqlDataReader, CancellationToken, Task<List<Driver>>> ReadDrivers = static (r, ct) => r.ReadListAsync(Rows.Driver, ct);

    public async Task<Driver> CreateAsync(string name, string vehicleNumber, CancellationToken ct = default)
    {
        var logicalShard = ids.NextSpreadShard();
        var driver = new Driver(
            ids.Next(logicalShard),
            Guard.Text(name, nameof(name), Guard.NameMaxLength),
            Guard.Text(vehicleNumber, nameof(vehicleNumber), Guard.VehicleNumberMaxLength),
            Available: true,
            time.UtcNow());
        var created = await runner.RunAsync("CreateDriver", shards.PhysicalShardOfLogical(logicalShard), transactional: false, async (unit, token) =>
        {
            // Only a row with everything this call wrote is its own (it may have been booked since: availability aside).
            if (unit.AfterUnknownCommit && await unit.CreateCommand(DriverById).With("@Id", driver.Id).ReadSingleOrDefaultAsync(Rows.Driver, token).ConfigureAwait(false) is { } stored
                && stored with { Available = true } == driver)
            {
                return stored;
            }

            while (true)
            {
                try
                {
                    await unit.ExecuteWriteAsync(
                        unit.CreateCommand(InsertDriver).With("@Id", driver.Id).With("@Name", driver.Name).With("@VehicleNumber", driver.VehicleNumber).With("@CreatedAt", driver.CreatedAt),
                        token).ConfigureAwait(false);
                    return driver;
                }
                catch (MySqlException ex) when (ex.IsIdCollision())
                {
                    metrics.IdCollision("CreateDriver");
                    driver = driver with { Id = ids.Next(logicalShard) };
                }
            }
        }, ct).ConfigureAwait(false);

        // A new available driver changes the available-driver list.
        await invalidation.DriverCreatedAsync().ConfigureAwait(false);
        return created;
    }

    public Task<Driver?> GetAsync(long driverId, CancellationToken ct = default)
    {
        Guard.Id(driverId, nameof(driverId));
        return reader.ReadAsync("GetDriver", shards.PhysicalShardOf(driverId), new MySqlCommand(DriverById).With("@Id", driverId), ReadDriver, ct);
    }

    /// <summary>Every shard's first <paramref name="limit"/> available drivers by id, merged: the first <paramref name="limit"/> overall.</summary>
    public async Task<IReadOnlyList<Driver>> GetAvailableAsync(int limit, CancellationToken ct = default)
    {
        Guard.Limit(limit, MaxAvailableLimit, nameof(limit));
        var perShard = await reader.FanOutAsync("GetAvailableDrivers", () => new MySqlCommand(AvailableDrivers).With("@Limit", limit), ReadDrivers, ct).ConfigureAwait(false);
        // While a logical shard moves its drivers are on two servers: only the copy its placement names counts.
        return perShard.Length == 1 ? perShard[0] : [.. perShard.SelectMany((drivers, shard) => drivers.Where(d => ((IShardResolver)shards).PhysicalShardOf(d.Id) == shard)).OrderBy(driver => driver.Id).Take(limit)];
    }
}
