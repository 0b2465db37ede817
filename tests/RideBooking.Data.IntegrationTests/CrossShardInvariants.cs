using Dapper;
using MySqlConnector;
using RideBooking.Data.Testing;

namespace RideBooking.Data.IntegrationTests;

/// <summary>The at-rest invariants of the design, checked from outside with plain SQL over every shard's primary.</summary>
internal static class CrossShardInvariants
{
    private sealed record RideRow(long Id, long UserId, long DriverId, string Status, decimal Fare, DateTime UpdatedAt);

    private sealed record EarningsRow(long DriverId, decimal Total, long CompletedRides, DateTime UpdatedAt);

    public static Task AssertAllAsync(RideBookingTestCluster cluster) => AssertAllAsync(cluster.Shards.Select(shard => shard.Primary));

    /// <summary>The same checks over the given primaries (one connection string for a one-database deployment).</summary>
    public static async Task AssertAllAsync(IEnumerable<string> primaries)
    {
        var rides = new List<RideRow>();
        var drivers = new Dictionary<long, bool>();
        var earnings = new Dictionary<long, EarningsRow>();
        var holds = new Dictionary<long, long>();
        long outbox = 0;
        foreach (var primary in primaries)
        {
            // Every table of a primary is read in one snapshot: a commit between two reads must not look like a broken invariant.
            await using var connection = new MySqlConnection(primary);
            await connection.OpenAsync();
            await using var snapshot = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
            rides.AddRange(await connection.QueryAsync<RideRow>("SELECT id AS Id, user_id AS UserId, driver_id AS DriverId, status AS Status, fare AS Fare, updated_at AS UpdatedAt FROM rides", transaction: snapshot));
            foreach (var (id, available) in await connection.QueryAsync<(long, bool)>("SELECT id, available FROM drivers", transaction: snapshot))
            {
                drivers.Add(id, available);
            }

            foreach (var row in await connection.QueryAsync<EarningsRow>("SELECT driver_id AS DriverId, total_earnings AS Total, completed_rides AS CompletedRides, updated_at AS UpdatedAt FROM driver_earnings", transaction: snapshot))
            {
                earnings.Add(row.DriverId, row);
            }

            foreach (var (driver, ride) in await connection.QueryAsync<(long, long)>("SELECT driver_id, ride_id FROM driver_holds", transaction: snapshot))
            {
                holds.Add(driver, ride);
            }

            outbox += await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM cross_shard_outbox", transaction: snapshot);
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM (SELECT ride_id FROM payments WHERE status <> 'FAILED' GROUP BY ride_id HAVING COUNT(*) > 1) p", transaction: snapshot));
        }

        var active = rides.Where(r => r.Status is "REQUESTED" or "ACCEPTED").ToList();
        // No user and no driver has two active rides, on any shard.
        Assert.Equal(active.Count, active.Select(r => r.UserId).Distinct().Count());
        Assert.Equal(active.Count, active.Select(r => r.DriverId).Distinct().Count());
        foreach (var (driver, available) in drivers)
        {
            // A driver is unavailable exactly when it has an active ride on any shard.
            Assert.True(available == active.All(r => r.DriverId != driver), $"driver {driver}: available={available}, active rides={active.Count(r => r.DriverId == driver)}");
            // Its earnings are the sum of its completed fares over all shards.
            var completed = rides.Where(r => r.DriverId == driver && r.Status == "COMPLETED").ToList();
            var rollup = earnings.GetValueOrDefault(driver);
            Assert.True(
                completed.Sum(r => r.Fare) == (rollup?.Total ?? 0) && completed.Count == (rollup?.CompletedRides ?? 0),
                $"driver {driver}: earnings {rollup?.Total ?? 0} over {rollup?.CompletedRides ?? 0} ride(s) (updated {rollup?.UpdatedAt:HH:mm:ss.ffffff}), completed fares {completed.Sum(r => r.Fare)} over {completed.Count} ride(s); "
                + $"its last 30 rides: {string.Join(", ", rides.Where(r => r.DriverId == driver).OrderBy(r => r.UpdatedAt).TakeLast(30).Select(r => $"{r.Id} {r.Status} {r.Fare} {r.UpdatedAt:HH:mm:ss.ffffff}"))}");
        }

        // Every ride's driver exists (a ride never exists without its driver held for it while active).
        Assert.All(rides, r => Assert.True(drivers.ContainsKey(r.DriverId), $"ride {r.Id} has an unknown driver {r.DriverId}"));
        // A hold belongs to an active ride of that driver; nothing is waiting to be relayed.
        Assert.All(holds, h => Assert.Contains(active, r => r.Id == h.Value && r.DriverId == h.Key));
        Assert.Equal(0, outbox);
    }
}
