using RideBooking.Data.Internal;

namespace RideBooking.Data.Tests;

/// <summary>The merge of the shards' top-N candidates against RANK() computed by brute force over all drivers.</summary>
public sealed class MergeRanksTests
{
    private static readonly decimal[] Earnings = [5m, 12.5m, 12.5m, 20m, 33.33m, 50m, 50m, 99.99m];

    /// <summary>RANK() OVER (ORDER BY earnings DESC) restricted to rank &lt;= top, ordered by rank then driver id.</summary>
    private static List<RankedDriver> BruteForce(IReadOnlyList<(long Id, decimal Earnings)> drivers, int top) =>
        [.. drivers
            .Select(d => new RankedDriver(d.Id, d.Earnings, 1 + drivers.Count(o => o.Earnings > d.Earnings)))
            .Where(d => d.Rank <= top)
            .OrderBy(d => d.Rank)
            .ThenBy(d => d.DriverId)];

    [Fact]
    public void Merged_ranks_equal_brute_force_rank_over_all_drivers_for_random_splits()
    {
        var cases = 0;
        for (var seed = 0; seed < 3000; seed++)
        {
            var random = new Random(seed);
            var shardCount = random.Next(1, 7);
            var driverCount = random.Next(0, 80);
            // Few distinct values, so ties are common, within and across shards.
            var values = Earnings.OrderBy(_ => random.Next()).Take(random.Next(1, 5)).ToArray();
            var ids = new HashSet<long>();
            while (ids.Count < driverCount)
            {
                ids.Add(random.NextInt64(1, 1_000_000));
            }

            var drivers = ids.Select(id => (Id: id, Earnings: values[random.Next(values.Length)])).ToList();
            var shardOf = drivers.ToDictionary(d => d.Id, _ => random.Next(shardCount));
            var top = random.Next(1, 21);

            // Each shard answers its own RANK() with ties, as the threshold query does.
            var candidates = Enumerable.Range(0, shardCount)
                .SelectMany(shard => BruteForce([.. drivers.Where(d => shardOf[d.Id] == shard)], top))
                .OrderBy(_ => random.Next())
                .ToList();

            var expected = BruteForce(drivers, top);
            var merged = RideRepository.MergeRanks(candidates, top);
            Assert.True(expected.SequenceEqual(merged), $"seed {seed}: {shardCount} shards, {driverCount} drivers, top {top}\nexpected {string.Join(", ", expected)}\nmerged   {string.Join(", ", merged)}");
            cases++;
        }

        Assert.Equal(3000, cases);
    }

    [Fact]
    public void Ties_across_shards_share_a_rank_and_the_next_rank_skips()
    {
        // Shard 0: drivers 1 (50) and 2 (40); shard 1: drivers 3 (50) and 4 (40); shard 2: driver 5 (30). top 3.
        RankedDriver[] shard0 = [new(1, 50m, 1), new(2, 40m, 2)];
        RankedDriver[] shard1 = [new(3, 50m, 1), new(4, 40m, 2)];
        RankedDriver[] shard2 = [new(5, 30m, 1)];

        var merged = RideRepository.MergeRanks([.. shard2, .. shard1, .. shard0], 3);

        Assert.Equal([new(1, 50m, 1), new(3, 50m, 1), new(2, 40m, 3), new(4, 40m, 3)], merged);
        Assert.Equal([new(1, 50m, 1), new(3, 50m, 1)], RideRepository.MergeRanks([.. shard0, .. shard1, .. shard2], 1));
        Assert.Equal(
            [new(1, 50m, 1), new(3, 50m, 1), new(2, 40m, 3), new(4, 40m, 3), new(5, 30m, 5)],
            RideRepository.MergeRanks([.. shard0, .. shard1, .. shard2], 5));
    }

    [Fact]
    public void No_candidates_give_no_ranks() => Assert.Empty(RideRepository.MergeRanks([], 10));
}
