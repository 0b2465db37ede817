using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Internal;
using RideBooking.Data.Testing;

namespace RideBooking.Data.IntegrationTests;

/// <summary>Fanned-out queries over 4 shards answer exactly what one database holding the same rows answers.</summary>
public sealed class ShardedQueryTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task Top_drivers_earnings_and_available_drivers_merged_over_four_shards_equal_one_database()
    {
        await using var single = await RideBookingTestDatabase.CreateAsync();
        await using var sharded = new ShardedServices(fixture.Cluster);
        await using var one = DatabaseFixture.BuildServices(single.ConnectionString);

        // Earnings from a small set of values, so ties fall within and across shards.
        var random = new Random(20261127);
        var ids = new IdGenerator(TimeProvider.System, 77);
        var now = DateTime.UtcNow;
        var drivers = Enumerable.Range(0, 120).Select(i =>
        {
            var id = ids.Next(random.Next(256));
            return new { id, name = "D" + i, vehicle = "V" + i, available = random.Next(3) != 0, earnings = 50m * random.Next(1, 12), now };
        }).ToList();
        foreach (var (server, shard) in fixture.Cluster.Shards.Select((s, i) => (s.Primary, i)).Append((single.ConnectionString, -1)))
        {
            var rows = shard < 0 ? drivers : drivers.Where(d => sharded.Resolver.PhysicalShardOf(d.id) == shard).ToList();
            await using var connection = new MySqlConnection(server);
            await connection.ExecuteAsync("INSERT INTO drivers (id, name, vehicle_number, available, created_at) VALUES (@id, @name, @vehicle, @available, @now)", rows);
            await connection.ExecuteAsync("INSERT INTO driver_earnings (driver_id, total_earnings, completed_rides, updated_at) VALUES (@id, @earnings, 1, @now)", rows.Where(d => d.earnings > 100m));
        }

        Assert.All(Enumerable.Range(0, 4), shard => Assert.Contains(drivers, d => sharded.Resolver.PhysicalShardOf(d.id) == shard));
        // The rows were written behind the library's back: let the replicas catch up before reading from them.
        await fixture.Cluster.WaitForReplicationAsync();

        for (var top = 1; top <= 30; top++)
        {
            var expected = await one.GetRequiredService<IRideRepository>().GetTopDriversAsync(top);
            Assert.Equal(expected, await sharded.Rides.GetTopDriversAsync(top));
            Assert.Equal(await RankBySqlAsync(single.ConnectionString, top), expected);
        }

        Assert.Equal(await one.GetRequiredService<IRideRepository>().GetDriverEarningsAsync(), await sharded.Rides.GetDriverEarningsAsync());
        foreach (var limit in new[] { 1, 7, 40, 1000 })
        {
            Assert.Equal(await one.GetRequiredService<IDriverRepository>().GetAvailableAsync(limit), await sharded.Drivers.GetAvailableAsync(limit));
        }
    }

    /// <summary>The brief's window query over the whole rollup of one database.</summary>
    private static async Task<List<RankedDriver>> RankBySqlAsync(string connectionString, int top)
    {
        await using var connection = new MySqlConnection(connectionString);
        var rows = await connection.QueryAsync<(long DriverId, decimal Earnings, long Rank)>("""
            SELECT driver_id, total_earnings, r FROM (
              SELECT driver_id, total_earnings, CAST(RANK() OVER (ORDER BY total_earnings DESC) AS SIGNED) AS r FROM driver_earnings) ranked
            WHERE r <= @top ORDER BY r, driver_id
            """, new { top });
        return [.. rows.Select(r => new RankedDriver(r.DriverId, r.Earnings, r.Rank))];
    }
}
