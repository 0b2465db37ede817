using Dapper;
using MySqlConnector;
using RideBooking.Data.Testing;

namespace RideBooking.Data.IntegrationTests;

/// <summary>The at-rest invariants of the design, checked from outside with plain SQL over every shard's primary.</summary>
internal static class CrossShardInvariants
{
    private sealed record RideRow(long Id, long UserId, long DriverId, string Status, decimal Fare);

    public static Task AssertAllAsync(RideBookingTestCluster cluster) => AssertAllAsync(cluster.Shards.Select(shard => shard.Primary));

    /// <summary>The invariants over the databases of <paramref name="primaries"/> taken together as the shards of one data set.</summary>
    public static async Task AssertAllAsync(IEnumerable<string> primaries)
    {
        var rides = new List<RideRow>();
        var drivers = new Dictionary<long, bool>();
        var earnings = new Dictionary<long, decimal>();
        var holds = new Dictionary<long, long>();
        long outbox = 0;
        foreach (var primary in primaries)
        {
            await using var connection = new MySqlConnection(primary);
            rides.AddRange(await connection.QueryAsync<RideRow>("SELECT id AS Id, user_id AS UserId, driver_id AS DriverId, status AS Status, fare AS Fare FROM rides"));
            foreach (var (id, available) in await connection.QueryAsync<(long, bool)>("SELECT id, available FROM drivers"))
            {
                drivers.Add(id, available);
            }

            foreach (var (id, total) in await connection.QueryAsync<(long, decimal)>("SELECT driver_id, total_earnings FROM driver_earnings"))
            {
                earnings.Add(id, total);
            }

            foreach (var (driver, ride) in await connection.QueryAsync<(long, long)>("SELECT driver_id, ride_id FROM driver_holds"))
            {
                holds.Add(driver, ride);
            }

            outbox += await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM cross_shard_outbox");
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM (SELECT ride_id FROM payments WHERE status <> 'FAILED' GROUP BY ride_id HAVING COUNT(*) > 1) p"));
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
            var completed = rides.Where(r => r.DriverId == driver && r.Status == "COMPLETED").Sum(r => r.Fare);
            Assert.True(completed == earnings.GetValueOrDefault(driver), $"driver {driver}: earnings {earnings.GetValueOrDefault(driver)}, completed fares {completed}");
        }

        // Every ride's driver exists (a ride never exists without its driver held for it while active).
        Assert.All(rides, r => Assert.True(drivers.ContainsKey(r.DriverId), $"ride {r.Id} has an unknown driver {r.DriverId}"));
        // A hold belongs to an active ride of that driver; nothing is waiting to be relayed.
        Assert.All(holds, h => Assert.Contains(active, r => r.Id == h.Value && r.DriverId == h.Key));
        Assert.Equal(0, outbox);
    }
}
