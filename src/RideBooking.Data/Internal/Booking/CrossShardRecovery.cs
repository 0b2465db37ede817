using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>
/// Finishes or undoes the cross-shard ride work that a process left behind:
/// <list type="bullet">
/// <item>an outbox message older than the cutoff (the ride completed or cancelled, the driver's shard not told yet):
/// applied once on the driver's shard, then deleted;</item>
/// <item>a driver hold older than the cutoff: the ride id is fenced on the user's shard (ABORTED, unless the booking
/// already stored COMMITTED there); an aborted hold is released; a hold whose ride is already over is released
/// through the same message as a completion or cancellation would send.</item>
/// </list>
/// Every decision is taken by a primary key on the shard that owns the ride, so passes running at once agree.
/// </summary>
internal sealed class CrossShardRecovery(RideBookingDataSource dataSource, ShardResolver shards, TransactionRunner runner, CrossShardSteps steps, TimeProvider time) : IRecoveryStep
{
    private const int Batch = 500;

    /// <summary>Before any hold (DATETIME's documented range starts at year 1000).</summary>
    private static readonly DateTime EarliestTime = new(1000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private const string OldOutbox = """
        SELECT ride_id, driver_id, kind, fare FROM cross_shard_outbox WHERE created_at < @Cutoff ORDER BY created_at LIMIT @Batch
        """;

    /// <summary>Holds older than the cutoff, a page at a time in (held_at, driver_id) order after the last one seen.</summary>
    private const string OldHolds = """
        SELECT driver_id, ride_id, held_at FROM driver_holds
        WHERE held_at < @Cutoff AND (held_at > @AfterTime OR (held_at = @AfterTime AND driver_id > @AfterDriver))
        ORDER BY held_at, driver_id LIMIT @Batch
        """;

    /// <summary>Fences the ride id (a booking still in flight then fails on the key), then reads what was decided and the ride's state.</summary>
    private const string DecideRide = """
        INSERT INTO cross_shard_decisions (id, outcome, decided_at) VALUES (@RideId, 'ABORTED', @Now) ON DUPLICATE KEY UPDATE id = id;
        SELECT d.outcome, r.status, r.fare, EXISTS (SELECT 1 FROM cross_shard_outbox o WHERE o.ride_id = d.id)
        FROM cross_shard_decisions d LEFT JOIN rides r ON r.id = d.id WHERE d.id = @RideId;
        """;

    public async Task<int> RunAsync(DateTime cutoff, CancellationToken ct)
    {
        var repairs = 0;
        for (var shard = 0; shard < dataSource.Shards.Length; shard++)
        {
            repairs += await RelayOutboxAsync(shard, cutoff, ct).ConfigureAwait(false);
            repairs += await SettleHoldsAsync(shard, cutoff, ct).ConfigureAwait(false);
        }

        return repairs;
    }

    private async Task<int> RelayOutboxAsync(int shard, DateTime cutoff, CancellationToken ct)
    {
        var repairs = 0;
        while (true)
        {
            var messages = await ReadAsync(shard, OldOutbox, cutoff, r => (RideId: r.GetInt64(0), DriverId: r.GetInt64(1), Kind: r.GetString(2), Fare: r.GetDecimal(3)), ct).ConfigureAwait(false);
            foreach (var message in messages)
            {
                await steps.RelayAsync(shard, shards.PhysicalShardOf(message.DriverId), message.RideId, message.DriverId, message.Kind, message.Fare, ct).ConfigureAwait(false);
                repairs++;
            }

            if (messages.Count < Batch)
            {
                return repairs;
            }
        }
    }

    private async Task<int> SettleHoldsAsync(int driverShard, DateTime cutoff, CancellationToken ct)
    {
        var repairs = 0;
        var afterTime = EarliestTime;
        var afterDriver = long.MinValue;
        while (true)
        {
            var holds = await ReadAsync(driverShard, OldHolds, cutoff, r => (DriverId: r.GetInt64(0), RideId: r.GetInt64(1), HeldAt: r.GetDateTime(2)), ct, afterTime, afterDriver).ConfigureAwait(false);
            foreach (var hold in holds)
            {
                repairs += await SettleHoldAsync(driverShard, hold.DriverId, hold.RideId, ct).ConfigureAwait(false);
                (afterTime, afterDriver) = (hold.HeldAt, hold.DriverId);
            }

            if (holds.Count < Batch)
            {
                return repairs;
            }
        }
    }

    /// <summary>Settles one old hold; returns 1 when it repaired something.</summary>
    private async Task<int> SettleHoldAsync(int driverShard, long driverId, long rideId, CancellationToken ct)
    {
        {
            var rideShard = shards.PhysicalShardOf(rideId);
            var now = time.UtcNow();
            var (outcome, status, fare, inOutbox) = await runner.RunAsync("Recovery.DecideRide", rideShard, transactional: false, (unit, token) =>
                unit.WriteThenReadFirstRowAsync(
                    unit.CreateCommand(DecideRide).With("@RideId", rideId).With("@Now", now),
                    static reader => (Outcome: reader.GetString(0), Status: reader.IsDBNull(1) ? null : reader.GetString(1), Fare: reader.IsDBNull(2) ? 0m : reader.GetDecimal(2), InOutbox: reader.GetInt64(3) == 1),
                    default,
                    token), ct).ConfigureAwait(false);

            if (outcome == "ABORTED")
            {
                // The ride never came and never will: the key now refuses it. Release the driver held for it.
                return await steps.ReleaseHoldAsync(driverShard, driverId, rideId, ct).ConfigureAwait(false) ? 1 : 0;
            }

            if (status is "COMPLETED" or "CANCELLED" && !inOutbox)
            {
                // The ride is over but its driver is still held and no message is pending: deliver it again (applied once).
                await steps.RelayAsync(rideShard, driverShard, rideId, driverId, status, fare, ct).ConfigureAwait(false);
                return 1;
            }

            // A booked ride still active: the hold is the ride's own.
            return 0;
        }
    }

    private async Task<List<T>> ReadAsync<T>(int shard, string sql, DateTime cutoff, Func<MySqlDataReader, T> map, CancellationToken ct, DateTime? afterTime = null, long afterDriver = 0)
    {
        var connection = await dataSource.Shards[shard].Primary.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await new MySqlCommand(sql, connection).With("@Cutoff", cutoff).With("@Batch", Batch).With("@AfterTime", afterTime ?? EarliestTime).With("@AfterDriver", afterDriver)
                .ReadListAsync(map, ct).ConfigureAwait(false);
        }
    }
}
