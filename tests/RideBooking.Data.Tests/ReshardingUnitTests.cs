using RideBooking.Data.Internal;

namespace RideBooking.Data.Tests;

/// <summary>The parts of resharding that need no server: options, the write fence's bookkeeping, the table list.</summary>
public sealed class ReshardingUnitTests
{
    private static string[] Failures(RideBookingOptions options)
    {
        var result = new RideBookingOptionsValidator().Validate(null, options);
        return result.Failed ? [.. result.Failures!] : [];
    }

    private static RideBookingOptions TwoShards(Action<RideBookingOptions> configure)
    {
        var options = new RideBookingOptions();
        options.Shards.Add(new ShardOptions { Primary = ShardTopology.Primary(0) });
        options.Shards.Add(new ShardOptions { Primary = ShardTopology.Primary(1) });
        configure(options);
        return options;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(-1)]
    public void A_base_shard_count_outside_one_to_the_number_of_shards_is_refused(int count)
    {
        var failure = Assert.Single(Failures(TwoShards(o => o.BasePhysicalShardCount = count)));
        Assert.Contains("BasePhysicalShardCount", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(null)]
    public void A_base_shard_count_up_to_the_number_of_shards_is_accepted(int? count) =>
        Assert.Empty(Failures(TwoShards(o => o.BasePhysicalShardCount = count)));

    [Theory]
    [InlineData(0.009)]
    [InlineData(60_001)]
    public void A_placement_refresh_interval_outside_10_ms_to_1_min_is_refused(double milliseconds)
    {
        var failure = Assert.Single(Failures(TwoShards(o => o.PlacementRefreshInterval = TimeSpan.FromMilliseconds(milliseconds))));
        Assert.Contains("PlacementRefreshInterval", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_are_all_shards_and_one_second() =>
        Assert.Equal<(int?, TimeSpan)>((null, TimeSpan.FromSeconds(1)), (new RideBookingOptions().BasePhysicalShardCount, new RideBookingOptions().PlacementRefreshInterval));

    [Fact]
    public async Task A_unit_of_work_takes_what_its_caller_routed_by_and_a_read_forgets_it()
    {
        await Task.Run(() =>
        {
            LogicalShardTrail.Note(7);
            LogicalShardTrail.Note(9);
            LogicalShardTrail.Note(7);
            var unit = LogicalShardTrail.BeginUnit();
            Assert.Equal([7, 9], unit.Snapshot());

            // Routing inside the unit adds to the unit's trail; the caller's is empty now.
            LogicalShardTrail.Note(11);
            Assert.Equal([7, 9, 11], unit.Snapshot());
        });

        await Task.Run(() =>
        {
            LogicalShardTrail.Note(3);
            Assert.Equal([3], LogicalShardTrail.Take());
            Assert.Empty(LogicalShardTrail.Take());
        });
    }

    [Fact]
    public async Task Concurrent_operations_do_not_see_each_others_logical_shards()
    {
        // As in the library: each operation is an async method that routes, then awaits the runner (also async).
        static async Task<int[]> RunnerAsync()
        {
            var unit = LogicalShardTrail.BeginUnit();
            await Task.Yield();
            return unit.Snapshot();
        }

        static async Task<int[]> OperationAsync(int logical)
        {
            await Task.Yield();
            LogicalShardTrail.Note(logical);
            return await RunnerAsync();
        }

        var seen = await Task.WhenAll(Enumerable.Range(0, 64).Select(OperationAsync));
        Assert.All(Enumerable.Range(0, 64), i => Assert.Equal([i], seen[i]));
    }

    [Fact]
    public void Every_table_with_rows_of_a_logical_shard_is_moved_parents_first()
    {
        var names = ShardMover.Tables.Select(t => t.Name).ToList();
        Assert.Equal(["users", "drivers", "rides", "payments", "driver_earnings", "driver_holds", "cross_shard_decisions", "cross_shard_outbox", "cross_shard_applied", "phone_claims", "transaction_claims", "idempotency_keys"], names);
        Assert.True(names.IndexOf("users") < names.IndexOf("rides") && names.IndexOf("rides") < names.IndexOf("payments"));
        Assert.All(ShardMover.Tables, t => Assert.NotEmpty(t.Key));
    }
}
