using RideBooking.Data.Internal;

namespace RideBooking.Data.Tests;

/// <summary>Properties of the sharded id layout: 41 bits of milliseconds | 4 bits sequence | 10 bits worker | 8 bits logical shard.</summary>
public sealed class ShardIdTests
{
    private static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset RandomTime(Random random) =>
        Epoch.AddMilliseconds(1 + random.NextInt64((long)(new DateTimeOffset(2093, 1, 1, 0, 0, 0, TimeSpan.Zero) - Epoch).TotalMilliseconds));

    [Fact]
    public void Every_id_carries_its_logical_shard_worker_and_time_for_random_inputs()
    {
        var random = new Random(20240101);
        using var dataSource = ShardTopology.DataSource(4);
        var resolver = ShardTopology.Resolver(dataSource);
        for (var round = 0; round < 2000; round++)
        {
            var time = RandomTime(random);
            var worker = random.Next(IdGenerator.MaxWorkerId + 1);
            var clock = new ManualClock(time);
            var ids = new IdGenerator(clock, worker);
            var millis = (long)(time - Epoch).TotalMilliseconds;
            for (var i = 0; i < 20; i++)
            {
                var shard = random.Next(IdGenerator.LogicalShardCount);
                var id = ids.Next(shard);
                Assert.True(id > 0, $"id {id} (time {time:O}, worker {worker}, shard {shard}) is not positive");
                Assert.Equal(shard, IdGenerator.LogicalShardOf(id));
                Assert.Equal(shard, resolver.LogicalShardOf(id));
                Assert.Equal(worker, (int)((id >> 8) & 1023));
                // 16 ids per millisecond: the 17th and later borrow the following milliseconds.
                Assert.Equal(millis + (i / 16), id >> 22);
                Assert.Equal(i % 16, (int)((id >> 18) & 15));
            }
        }
    }

    [Fact]
    public void The_documented_bit_layout_gives_known_ids()
    {
        var clock = new ManualClock(Epoch.AddMilliseconds(1000));
        var ids = new IdGenerator(clock, workerId: 5);

        // 1000 ms << 22 | sequence 0 << 18 | worker 5 << 8 | shard 3
        Assert.Equal(4_194_305_283L, ids.Next(3));
        Assert.Equal((1000L << 22) | (1L << 18) | (5L << 8) | 3, ids.Next(3));
        Assert.Equal((1000L << 22) | (2L << 18) | (5L << 8) | 255, ids.Next(255));

        clock.Now = Epoch.AddMilliseconds(1001);
        Assert.Equal((1001L << 22) | (5L << 8), ids.Next(0));

        // The largest worker and shard fill their fields and nothing else.
        var max = new IdGenerator(new ManualClock(Epoch.AddMilliseconds(7)), IdGenerator.MaxWorkerId);
        Assert.Equal((7L << 22) | (1023L << 8) | 255, max.Next(255));

        // A time near the end of the 41 bits (2093) still gives a positive id.
        var late = new IdGenerator(new ManualClock(Epoch.AddMilliseconds((1L << 41) - 2)), IdGenerator.MaxWorkerId);
        var lateId = late.Next(255);
        Assert.True(lateId > 0);
        Assert.Equal((1L << 41) - 2, lateId >> 22);
    }

    [Fact]
    public void Ids_are_unique_strictly_increasing_per_generator_and_time_ordered_across_generators()
    {
        var random = new Random(77);
        for (var round = 0; round < 50; round++)
        {
            var clock = new ManualClock(RandomTime(random));
            var workers = Enumerable.Range(0, IdGenerator.MaxWorkerId + 1).OrderBy(_ => random.Next()).Take(random.Next(2, 9)).ToArray();
            var generators = workers.Select(w => new IdGenerator(clock, w)).ToArray();
            var last = new long[generators.Length];
            var all = new HashSet<long>();
            var previousStepMax = 0L;
            for (var step = 0; step < 200; step++)
            {
                clock.Now = clock.Now.AddMilliseconds(random.Next(1, 4));
                var stepMin = long.MaxValue;
                var stepMax = 0L;
                foreach (var g in Enumerable.Range(0, generators.Length))
                {
                    // At most 16 a millisecond, so no generator runs ahead of the clock.
                    var count = random.Next(0, 17);
                    for (var i = 0; i < count; i++)
                    {
                        var id = random.Next(2) == 0 ? generators[g].Next() : generators[g].Next(random.Next(IdGenerator.LogicalShardCount));
                        Assert.True(id > last[g], $"worker {workers[g]}: {id} after {last[g]}");
                        last[g] = id;
                        Assert.True(all.Add(id), $"duplicate id {id}");
                        stepMin = Math.Min(stepMin, id);
                        stepMax = Math.Max(stepMax, id);
                    }
                }

                if (stepMax > 0)
                {
                    Assert.True(stepMin > previousStepMax, $"an id of a later millisecond ({stepMin}) sorts before one of an earlier millisecond ({previousStepMax})");
                    previousStepMax = stepMax;
                }
            }
        }
    }

    [Fact]
    public void Ids_stay_unique_and_increasing_when_a_burst_borrows_milliseconds_and_the_clock_goes_back()
    {
        var random = new Random(5);
        var clock = new ManualClock(Epoch.AddDays(900));
        var ids = new IdGenerator(clock, 9);
        var seen = new HashSet<long>();
        var last = 0L;
        for (var i = 0; i < 20_000; i++)
        {
            if (random.Next(50) == 0)
            {
                clock.Now = clock.Now.AddMilliseconds(random.Next(-20, 21));
            }

            var id = ids.Next(random.Next(IdGenerator.LogicalShardCount));
            Assert.True(id > last);
            Assert.True(seen.Add(id));
            last = id;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(8)]
    public void New_users_spread_within_5_percent_of_even_over_the_physical_shards(int physicalShards)
    {
        using var dataSource = ShardTopology.DataSource(physicalShards);
        var resolver = ShardTopology.Resolver(dataSource);
        var ids = new IdGenerator(new ManualClock(Epoch.AddDays(1000)), 42);
        var counts = new int[physicalShards];
        const int Users = 100_000;
        for (var i = 0; i < Users; i++)
        {
            counts[resolver.PhysicalShardOf(ids.Next())]++;
        }

        var even = Users / (double)physicalShards;
        Assert.All(counts, count => Assert.InRange(count, even * 0.95, even * 1.05));
    }

    [Fact]
    public void The_round_robin_covers_every_logical_shard_evenly()
    {
        var ids = new IdGenerator(TimeProvider.System, 1);
        var counts = new int[IdGenerator.LogicalShardCount];
        for (var i = 0; i < IdGenerator.LogicalShardCount * 10; i++)
        {
            counts[IdGenerator.LogicalShardOf(ids.Next())]++;
        }

        Assert.All(counts, count => Assert.Equal(10, count));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void A_ride_id_made_with_its_users_logical_shard_lives_on_the_users_physical_shard(int physicalShards)
    {
        var random = new Random(physicalShards);
        using var dataSource = ShardTopology.DataSource(physicalShards);
        var resolver = ShardTopology.Resolver(dataSource);
        var clock = new ManualClock(Epoch.AddDays(800));
        // Users made by one process, rides by another (a different worker), at later times.
        var userIds = new IdGenerator(clock, 1);
        var rideIds = new IdGenerator(clock, 2);
        for (var i = 0; i < 5000; i++)
        {
            var user = userIds.Next();
            clock.Now = clock.Now.AddMilliseconds(random.Next(0, 1000));
            var ride = rideIds.Next(resolver.LogicalShardOf(user));
            var payment = rideIds.Next(resolver.LogicalShardOf(ride));
            Assert.Equal(resolver.LogicalShardOf(user), resolver.LogicalShardOf(ride));
            Assert.Equal(resolver.PhysicalShardOf(user), resolver.PhysicalShardOf(ride));
            Assert.Equal(resolver.PhysicalShardOf(user), resolver.PhysicalShardOf(payment));
            Assert.InRange(resolver.PhysicalShardOf(user), 0, physicalShards - 1);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void With_a_power_of_two_shard_count_the_physical_shard_is_the_id_modulo_the_count(int physicalShards)
    {
        var random = new Random(4);
        using var dataSource = ShardTopology.DataSource(physicalShards);
        var resolver = ShardTopology.Resolver(dataSource);
        var ids = new IdGenerator(new ManualClock(RandomTime(random)), 300);
        for (var i = 0; i < 10_000; i++)
        {
            var generated = ids.Next();
            Assert.Equal(generated % physicalShards, resolver.PhysicalShardOf(generated));
            var any = random.NextInt64(1, long.MaxValue);
            Assert.Equal(any % physicalShards, resolver.PhysicalShardOf(any));
        }

        Assert.Equal(physicalShards, resolver.PhysicalShardCount);
        Assert.Equal(256, resolver.LogicalShardCount);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(-256L)]
    [InlineData(long.MinValue)]
    public void Non_positive_ids_are_refused(long id)
    {
        using var dataSource = ShardTopology.DataSource(4);
        var resolver = ShardTopology.Resolver(dataSource);
        Assert.Throws<ArgumentOutOfRangeException>(() => resolver.LogicalShardOf(id));
        Assert.Throws<ArgumentOutOfRangeException>(() => resolver.PhysicalShardOf(id));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(256)]
    [InlineData(int.MinValue)]
    [InlineData(int.MaxValue)]
    public void Logical_shards_outside_the_low_byte_are_refused(int logicalShard) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new IdGenerator(TimeProvider.System, 1).Next(logicalShard));
}
