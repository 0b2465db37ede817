using Microsoft.Extensions.DependencyInjection;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Tests;

public sealed class ShardResolverTests
{
    /// <summary>Logical shards below 16 on the last physical shard, the rest on the first.</summary>
    private sealed class FirstSixteenOnTheLastShard : IShardMap
    {
        public int PhysicalShardOf(int logicalShard, int physicalShardCount) => logicalShard < 16 ? physicalShardCount - 1 : 0;
    }

    private sealed class FixedMap(int physical) : IShardMap
    {
        public int PhysicalShardOf(int logicalShard, int physicalShardCount) => physical;
    }

    private static ServiceProvider TwoShards(Action<IServiceCollection>? before = null)
    {
        var services = new ServiceCollection();
        before?.Invoke(services);
        services.AddRideBookingData(o =>
        {
            o.Shards.Add(new ShardOptions { Primary = ShardTopology.Primary(0) });
            o.Shards.Add(new ShardOptions { Primary = ShardTopology.Primary(1) });
        });
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private static long IdOn(int logicalShard) => new IdGenerator(TimeProvider.System, 1).Next(logicalShard);

    [Fact]
    public void A_shard_map_registered_before_AddRideBookingData_replaces_the_default()
    {
        using var provider = TwoShards(services => services.AddSingleton<IShardMap, FirstSixteenOnTheLastShard>());
        var resolver = provider.GetRequiredService<IShardResolver>();

        Assert.IsType<FirstSixteenOnTheLastShard>(provider.GetRequiredService<IShardMap>());
        Assert.Equal(2, resolver.PhysicalShardCount);
        for (var logical = 0; logical < 256; logical++)
        {
            Assert.Equal(logical < 16 ? 1 : 0, resolver.PhysicalShardOf(IdOn(logical)));
        }
    }

    [Fact]
    public void Without_a_registered_map_the_default_places_logical_shards_modulo_the_shard_count()
    {
        using var provider = TwoShards();
        var resolver = provider.GetRequiredService<IShardResolver>();

        // The default map follows the shard catalog; a logical shard without a placement is on logical % count.
        var map = Assert.IsType<ModuloShardMap>(provider.GetRequiredService<IShardMap>());
        Assert.NotNull(map.Placements);
        for (var logical = 0; logical < 256; logical++)
        {
            Assert.Equal(logical % 2, new ModuloShardMap().PhysicalShardOf(logical, 2));
        }

        // These servers do not exist: without the catalog nothing is routed (a guess could put rows where they are not).
        var ex = Assert.Throws<ShardUnavailableException>(() => resolver.PhysicalShardOf(IdOn(3)));
        Assert.True(ex.IsTransient);
        Assert.Equal(0, ex.PhysicalShard);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void A_map_that_names_a_shard_out_of_range_is_an_error(int physical)
    {
        using var provider = TwoShards(services => services.AddSingleton<IShardMap>(new FixedMap(physical)));
        var resolver = provider.GetRequiredService<IShardResolver>();

        var ex = Assert.Throws<InvalidOperationException>(() => resolver.PhysicalShardOf(IdOn(7)));
        Assert.Contains("logical shard 7", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_one_shard_topology_always_answers_0_whatever_the_map_says()
    {
        var random = new Random(11);
        var services = new ServiceCollection();
        services.AddSingleton<IShardMap>(new FixedMap(5));
        services.AddRideBookingData(o => o.ConnectionString = ShardTopology.Primary(0));
        using var provider = services.BuildServiceProvider();
        var resolver = provider.GetRequiredService<IShardResolver>();

        Assert.Equal(1, resolver.PhysicalShardCount);
        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal(0, resolver.PhysicalShardOf(random.NextInt64(1, long.MaxValue)));
        }

        // One entry in Shards is the same topology.
        using var one = ShardTopology.DataSource(1);
        var single = ShardTopology.Resolver(one, new FixedMap(9));
        for (var logical = 0; logical < 256; logical++)
        {
            Assert.Equal(0, single.PhysicalShardOf(IdOn(logical)));
        }
    }
}
