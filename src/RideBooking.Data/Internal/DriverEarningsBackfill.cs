using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>
/// Walks the driver ids that have rides, in id order, a batch at a time (keyset pagination on
/// ix_rides_driver_status), and replaces the rollup rows of each id window in its own transaction; one physical
/// shard after the other (a driver's rides and rollup row live on the driver's shard while bookings stay on one shard).
/// </summary>
internal sealed class DriverEarningsBackfill(RideBookingDataSource dataSource, TransactionRunner runner, TimeProvider time) : IDriverEarningsBackfill
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

    public async Task<EarningsBackfillResult> RebuildAsync(int driversPerBatch = 500, CancellationToken ct = default)
    {
        Guard.Limit(driversPerBatch, MaxBatch, nameof(driversPerBatch));
        long withEarnings = 0;
        var batches = 0;
        for (var shard = 0; shard < dataSource.Shards.Length; shard++)
        {
            var (rows, shardBatches) = await RebuildShardAsync(shard, driversPerBatch, ct).ConfigureAwait(false);
            withEarnings += rows;
            batches += shardBatches;
        }

        return new EarningsBackfillResult(withEarnings, batches);
    }

    private async Task<(long WithEarnings, int Batches)> RebuildShardAsync(int shard, int driversPerBatch, CancellationToken ct)
    {
        long after = long.MinValue, withEarnings = 0;
        var batches = 0;
        while (true)
        {
            List<long> ids;
            var connection = await dataSource.Shards[shard].Primary.OpenAsync(ct).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                ids = await new MySqlCommand(NextDriverIds, connection).With("@After", after).With("@Batch", driversPerBatch)
                    .ReadListAsync(r => r.GetInt64(0), ct).ConfigureAwait(false);
            }

            // The last window reaches the top of the id range, so rollup rows of drivers without rides go too.
            var last = ids.Count == driversPerBatch ? ids[^1] : long.MaxValue;
            var now = time.UtcNow();
            var lowerBound = after;
            withEarnings += await runner.RunAsync("RebuildDriverEarnings", shard, transactional: true, (unit, token) =>
                unit.CreateCommand(RebuildWindow).With("@After", lowerBound).With("@Last", last).With("@Now", now).ReadInt64Async(token), ct).ConfigureAwait(false);
            batches++;
            if (last == long.MaxValue)
            {
                return (withEarnings, batches);
            }

            after = last;
        }
    }
}
