using Microsoft.Extensions.Options;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Tests;

/// <summary>Topologies for tests that need shards but no server: building the pools does not connect.</summary>
internal static class ShardTopology
{
    public static string Primary(int shard) => $"Server=db.example.invalid;Port=3306;Database=rides_{shard};User ID=app;Password=secret-pw";

    public static string Replica(int shard, int replica) => $"Server=replica{replica}.example.invalid;Port=3306;Database=rides_{shard};User ID=app;Password=secret-pw";

    public static RideBookingOptions Options(int shards, int replicasPerShard = 0)
    {
        var options = new RideBookingOptions();
        for (var i = 0; i < shards; i++)
        {
            var shard = new ShardOptions { Primary = Primary(i) };
            for (var r = 0; r < replicasPerShard; r++)
            {
                shard.Replicas.Add(Replica(i, r));
            }

            options.Shards.Add(shard);
        }

        return options;
    }

    public static RideBookingDataSource DataSource(int shards, int replicasPerShard = 0) =>
        new(Microsoft.Extensions.Options.Options.Create(Options(shards, replicasPerShard)));

    public static ShardResolver Resolver(RideBookingDataSource dataSource, IShardMap? map = null) => new(dataSource, map ?? new ModuloShardMap());
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
