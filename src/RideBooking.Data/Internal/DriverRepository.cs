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

    public Task<Driver> CreateAsync(string name, string vehicleNumber, CancellationToken ct = default) =>
        CreateAsync(name, vehicleNumber, key: null, ct);

    public Task<Driver> CreateAsync(string name, string vehicleNumber, string idempotencyKey, CancellationToken ct = default)
    {
        Guard.IdempotencyKey(idempotencyKey, nameof(idempotencyKey));
        return CreateAsync(name, vehicleNumber, CallerKey.For(CallerKey.CreateDriver, 0, idempotencyKey, name, vehicleNumber), ct);
    }

    private async Task<Driver> CreateAsync(string name, string vehicleNumber, CallerKey? key, CancellationToken ct)
    {
        // A keyed creation lives on the logical shard its key names, so a repeat reaches the one shard that can hold the key.
        var logicalShard = key?.Home ?? ids.NextSpreadShard();
        var driver = new Driver(
            ids.Next(logicalShard),
            Guard.Text(name, nameof(name), Guard.NameMaxLength),
            Guard.Text(vehicleNumber, nameof(vehicleNumber), Guard.VehicleNumberMaxLength),
            Available: true,
            time.UtcNow());
        while (true)
        {
            try
            {
                var created = await CreateOnceAsync(driver, logicalShard, key, ct).ConfigureAwait(false);

                // A new available driver changes the available-driver list.
                await invalidation.DriverCreatedAsync().ConfigureAwait(false);
                return created;
            }
            catch (IdCollisionRetry)
            {
                driver = driver with { Id = ids.Next(logicalShard) };
            }
        }
    }

    private Task<Driver> CreateOnceAsync(Driver driver, int logicalShard, CallerKey? key, CancellationToken ct) =>
        runner.RunAsync("CreateDriver", shards.PhysicalShardOfLogical(logicalShard), transactional: key is not null, async (unit, token) =>
        {
            // Only a row with everything this call wrote is its own (it may have been booked since: availability aside).
            if (unit.AfterUnknownCommit && await unit.CreateCommand(DriverById + (key is null ? string.Empty : " FOR UPDATE")).With("@Id", driver.Id).ReadSingleOrDefaultAsync(Rows.Driver, token).ConfigureAwait(false) is { } stored
                && stored with { Available = true } == driver)
            {
                return stored;
            }

            while (true)
            {
                try
                {
                    // With a key: the key and the driver in one transaction, one round trip; the key is taken first, so a
                    // concurrent repeat waits for this call and then finds its driver.
                    var insert = unit.CreateCommand(key is null ? InsertDriver : CallerKey.Insert + ";\n" + InsertDriver)
                        .With("@Id", driver.Id).With("@Name", driver.Name).With("@VehicleNumber", driver.VehicleNumber).With("@CreatedAt", driver.CreatedAt);
                    if (key is null)
                    {
                        await unit.ExecuteWriteAsync(insert, token).ConfigureAwait(false);
                        return driver;
                    }

                    await unit.ExecuteAndCommitAsync(key.Bind(insert, driver.Id, driver.CreatedAt), token).ConfigureAwait(false);
                    return driver;
                }
                catch (MySqlException ex) when (key is not null && ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
                {
                    // Either the key is taken (a first call committed it) or the generated id collided: the stored key tells.
                    var keyRow = await unit.RollBackThenReadAsync(key.Bind(unit.CreateCommand(CallerKey.Find)), CallerKey.ReadStored, token).ConfigureAwait(false);
                    if (keyRow is null)
                    {
                        // Nothing of this attempt is kept; a collision with another process's driver id: take a new id.
                        metrics.IdCollision("CreateDriver");
                        throw new IdCollisionRetry();
                    }

                    var first = key.Resolve(keyRow, "another driver");
                    return await unit.CreateCommand(DriverById).With("@Id", first).ReadSingleOrDefaultAsync(Rows.Driver, token).ConfigureAwait(false)
                        ?? throw new RideBookingInfrastructureException("The driver of this idempotency key could not be read; try again.") { Operation = "CreateDriver", IsTransient = true };
                }
                catch (MySqlException ex) when (key is null && ex.IsIdCollision())
                {
                    metrics.IdCollision("CreateDriver");
                    driver = driver with { Id = ids.Next(logicalShard) };
                }
            }
        }, ct, () => new OutcomeKey(EntityId: driver.Id, IdempotencyKey: key?.Key));

    /// <summary>A keyed creation whose generated id collided: nothing was kept; the caller takes a new id. Never reaches a caller.</summary>
    private sealed class IdCollisionRetry() : RideBookingException("The generated id was taken.");

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
