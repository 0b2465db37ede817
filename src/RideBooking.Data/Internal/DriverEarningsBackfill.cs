using System.Globalization;
using System.Text;
using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>
/// Rebuilds the rollup a window of driver ids at a time, each window in its own short transaction.
/// On one database: walks the driver ids that have rides (keyset pagination on ix_rides_driver_status) and replaces
/// the rows of each window from <c>rides</c> in one statement.
/// Sharded: a driver's rollup row lives on the driver's shard while its rides live on their users' shards, so for
/// each physical shard it walks the drivers of that shard (keyset on their id), sums each window's completed rides
/// read from every shard, minus the completions whose outbox message has not been applied on the driver's shard yet
/// (applying it adds the fare), and replaces the window's rows on the driver's shard with the rows of the drivers
/// that live there (rows of drivers placed elsewhere go).
/// </summary>
internal sealed class DriverEarningsBackfill(RideBookingDataSource dataSource, TransactionRunner runner, TimeProvider time, IShardResolver resolver) : IDriverEarningsBackfill
{
    internal const int MaxBatch = 10_000;

    private const string NextDriverIds = """
        SELECT DISTINCT driver_id FROM rides WHERE driver_id > @After ORDER BY driver_id LIMIT @Batch
        """;

    /// <summary>Replaces the rollup rows of the window (After, Last]; with no Last, everything above After.</summary>
    private const string RebuildWindow = """
        DELETE FROM driver_earnings WHERE driver_id > @After AND driver_id <= @Last;
        INSERT INTO driver_earnings (driver_id, total_earnings, completed_rides, updated_at)
        SELECT driver_id, SUM(fare), COUNT(*), @Now
        FROM rides WHERE driver_id > @After AND driver_id <= @Last AND status = 'COMPLETED'
        GROUP BY driver_id;
        SELECT ROW_COUNT();
        """;

    private const string NextDriversOfShard = "SELECT id FROM drivers WHERE id > @After ORDER BY id LIMIT @Batch";

    /// <summary>
    /// Locks the window's drivers on their shard for the rebuild's transaction: completing a ride of one of them (on its
    /// shard, or applying a cross-shard completion) frees the driver, so it waits until the window's rows are replaced.
    /// </summary>
    private const string LockDriversOfWindow = "SELECT id FROM drivers WHERE id > @After AND id <= @Last ORDER BY id FOR UPDATE";

    /// <summary>
    /// One statement (one read view): the completed rides of the window on a shard, and the completion messages still in
    /// that shard's outbox (kind 0: driver, sum, count; kind 1: driver, fare, 1, ride).
    /// </summary>
    private const string CompletionsOfWindow = """
        SELECT 0 AS kind, driver_id, SUM(fare) AS fare, COUNT(*) AS rides, 0 AS ride_id
        FROM rides WHERE driver_id > @After AND driver_id <= @Last AND status = 'COMPLETED'
        GROUP BY driver_id
        UNION ALL
        SELECT 1, driver_id, fare, 1, ride_id
        FROM cross_shard_outbox WHERE kind = 'COMPLETED' AND driver_id > @After AND driver_id <= @Last
        """;

    private const string DeleteWindow = "DELETE FROM driver_earnings WHERE driver_id > @After AND driver_id <= @Last";

    public async Task<EarningsBackfillResult> RebuildAsync(int driversPerBatch = 500, CancellationToken ct = default)
    {
        Guard.Limit(driversPerBatch, MaxBatch, nameof(driversPerBatch));
        try
        {
            return await RebuildCoreAsync(driversPerBatch, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (InfrastructureErrors.IsDriverFailure(ex) && !ct.IsCancellationRequested)
        {
            // The window walk reads with its own connections: no raw driver exception reaches the caller.
            throw InfrastructureErrors.Translate("RebuildEarnings", ex);
        }
    }

    private async Task<EarningsBackfillResult> RebuildCoreAsync(int driversPerBatch, CancellationToken ct)
    {
        long withEarnings = 0;
        var batches = 0;
        var sharded = dataSource.Shards.Length > 1;
        for (var shard = 0; shard < dataSource.Shards.Length; shard++)
        {
            var target = shard;
            var (rows, shardBatches) = sharded
                ? await RebuildWindowsAsync(shard, NextDriversOfShard, driversPerBatch, (unit, after, last, token) => RebuildDriverWindowAsync(unit, target, after, last, token), ct).ConfigureAwait(false)
                : await RebuildWindowsAsync(shard, NextDriverIds, driversPerBatch, RebuildLocalWindowAsync, ct).ConfigureAwait(false);
            withEarnings += rows;
            batches += shardBatches;
        }

        return new EarningsBackfillResult(withEarnings, batches);
    }

    /// <summary>
    /// Walks the driver ids that <paramref name="nextIds"/> lists on <paramref name="shard"/>, a window of
    /// <paramref name="driversPerBatch"/> at a time, and rebuilds each window (after, last] in its own transaction there.
    /// The last window reaches the top of the id range, so rollup rows above the last driver go too.
    /// </summary>
    private async Task<(long WithEarnings, int Batches)> RebuildWindowsAsync(
        int shard, string nextIds, int driversPerBatch, Func<UnitOfWork, long, long, CancellationToken, Task<long>> rebuild, CancellationToken ct)
    {
        long after = long.MinValue, withEarnings = 0;
        var batches = 0;
        while (true)
        {
            List<long> ids;
            var connection = await dataSource.Shards[shard].Primary.OpenAsync(ct).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                ids = await new MySqlCommand(nextIds, connection).With("@After", after).With("@Batch", driversPerBatch)
                    .ReadListAsync(r => r.GetInt64(0), ct).ConfigureAwait(false);
            }

            var last = ids.Count == driversPerBatch ? ids[^1] : long.MaxValue;
            var lowerBound = after;
            withEarnings += await runner.RunAsync("RebuildDriverEarnings", shard, transactional: true,
                (unit, token) => rebuild(unit, lowerBound, last, token), ct).ConfigureAwait(false);
            batches++;
            if (last == long.MaxValue)
            {
                return (withEarnings, batches);
            }

            after = last;
        }
    }

    /// <summary>One database: the window's rollup rows replaced from the rides stored beside them.</summary>
    /// <summary>
    /// Locks the window's drivers first: a completion updates its driver before it adds to the rollup, so none can commit
    /// between the DELETE and the INSERT ... SELECT (a first completion committed there would insert the row the rebuild
    /// inserts too, failing the batch with a duplicate key). A completion waiting on the lock adds its fare once the
    /// rebuilt rows are committed; the rebuild did not count its ride, which was not completed yet.
    /// </summary>
    private async Task<long> RebuildLocalWindowAsync(UnitOfWork unit, long after, long last, CancellationToken ct)
    {
        await unit.CreateCommand(LockDriversOfWindow).With("@After", after).With("@Last", last).ReadListAsync(r => r.GetInt64(0), ct).ConfigureAwait(false);
        return await unit.CreateCommand(RebuildWindow).With("@After", after).With("@Last", last).With("@Now", time.UtcNow()).ReadInt64Async(ct).ConfigureAwait(false);
    }

    private async Task<long> RebuildDriverWindowAsync(UnitOfWork unit, int shard, long after, long last, CancellationToken ct)
    {
        var drivers = await unit.CreateCommand(LockDriversOfWindow).With("@After", after).With("@Last", last)
            .ReadListAsync(r => r.GetInt64(0), ct).ConfigureAwait(false);
        var earnings = new SortedDictionary<long, (decimal Total, long Rides)>();
        foreach (var driver in drivers)
        {
            if (driver > 0 && resolver.PhysicalShardOf(driver) == shard)
            {
                earnings[driver] = (0m, 0);
            }
        }

        // Messages still waiting in an outbox: those not applied here yet are added when they are, so they are left out.
        var waiting = new List<(long RideId, long DriverId, decimal Fare)>();
        for (var source = 0; source < dataSource.Shards.Length && earnings.Count > 0; source++)
        {
            var connection = await dataSource.Shards[source].Primary.OpenAsync(ct).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var command = new MySqlCommand(CompletionsOfWindow, connection).With("@After", after).With("@Last", last);
                await using (command.ConfigureAwait(false))
                {
                    var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        while (await reader.ReadAsync(ct).ConfigureAwait(false))
                        {
                            var driverId = reader.GetInt64(1);
                            if (!earnings.TryGetValue(driverId, out var sum))
                            {
                                continue;
                            }

                            var fare = reader.GetDecimal(2);
                            if (Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture) == 0)
                            {
                                earnings[driverId] = (sum.Total + fare, sum.Rides + Convert.ToInt64(reader.GetValue(3), CultureInfo.InvariantCulture));
                            }
                            else
                            {
                                waiting.Add((Convert.ToInt64(reader.GetValue(4), CultureInfo.InvariantCulture), driverId, fare));
                            }
                        }
                    }
                }
            }
        }

        if (waiting.Count > 0)
        {
            var applied = await AppliedRidesAsync(unit, waiting, ct).ConfigureAwait(false);
            foreach (var (rideId, driverId, fare) in waiting)
            {
                if (!applied.Contains(rideId))
                {
                    var sum = earnings[driverId];
                    earnings[driverId] = (sum.Total - fare, sum.Rides - 1);
                }
            }
        }

        await unit.CreateCommand(DeleteWindow).With("@After", after).With("@Last", last).ExecuteAsync(ct).ConfigureAwait(false);
        var rows = earnings.Where(e => e.Value.Rides > 0).ToList();
        if (rows.Count == 0)
        {
            return 0;
        }

        var sql = new StringBuilder("INSERT INTO driver_earnings (driver_id, total_earnings, completed_rides, updated_at) VALUES ");
        for (var i = 0; i < rows.Count; i++)
        {
            sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(@D{i}, @T{i}, @C{i}, @Now)");
        }

        var insert = unit.CreateCommand(sql.ToString()).With("@Now", time.UtcNow());
        for (var i = 0; i < rows.Count; i++)
        {
            insert.With($"@D{i}", rows[i].Key).With($"@T{i}", rows[i].Value.Total).With($"@C{i}", rows[i].Value.Rides);
        }

        await insert.ExecuteAsync(ct).ConfigureAwait(false);
        return rows.Count;
    }

    /// <summary>The rides among <paramref name="waiting"/> whose message is already applied on the unit's shard.</summary>
    private static async Task<HashSet<long>> AppliedRidesAsync(UnitOfWork unit, List<(long RideId, long DriverId, decimal Fare)> waiting, CancellationToken ct)
    {
        var sql = new StringBuilder("SELECT ride_id FROM cross_shard_applied WHERE ride_id IN (");
        for (var i = 0; i < waiting.Count; i++)
        {
            sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"@R{i}");
        }

        var command = unit.CreateCommand(sql.Append(')').ToString());
        for (var i = 0; i < waiting.Count; i++)
        {
            command.With($"@R{i}", waiting[i].RideId);
        }

        return [.. await command.ReadListAsync(r => r.GetInt64(0), ct).ConfigureAwait(false)];
    }
}
