using System.Globalization;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Benchmarks;

/// <summary>A user by id, one shard of four (served by its replica) versus the one database.</summary>
[BenchmarkCategory("Sharding: user by id")]
public class ShardedUserReadBenchmarks : ShardingBenchmarkBase
{
    private long _user;
    private IUserRepository _single = null!;
    private IUserRepository _sharded = null!;

    protected override async Task GlobalSetupAsync()
    {
        await base.GlobalSetupAsync();
        _user = Users[UserCount / 2];
        _single = OneDatabase.GetRequiredService<IUserRepository>();
        _sharded = Sharded.GetRequiredService<IUserRepository>();
        await AssertServedByReplicasAsync(Sharded, "GetAsync of a user", async () => _ = await _sharded.GetAsync(_user) ?? throw new InvalidOperationException($"User {_user} is not on its shard's replica."));
        _ = await _single.GetAsync(_user) ?? throw new InvalidOperationException($"User {_user} is not in the one database.");
    }

    [Benchmark(Baseline = true)]
    public Task<User?> OneDatabase_GetUser() => _single.GetAsync(_user);

    [Benchmark]
    public Task<User?> FourShards_GetUser() => _sharded.GetAsync(_user);
}

/// <summary>Latest 10 rides of a user, one shard of four (served by its replica) versus the one database.</summary>
[BenchmarkCategory("Sharding: latest rides")]
public class ShardedLatestRidesBenchmarks : ShardingBenchmarkBase
{
    private long _user;
    private IRideRepository _single = null!;
    private IRideRepository _sharded = null!;

    protected override async Task GlobalSetupAsync()
    {
        await base.GlobalSetupAsync();
        _user = Users[UserCount / 2];
        _single = OneDatabase.GetRequiredService<IRideRepository>();
        _sharded = Sharded.GetRequiredService<IRideRepository>();
        await AssertServedByReplicasAsync(Sharded, "GetLatestForUserAsync", async () =>
        {
            if ((await _sharded.GetLatestForUserAsync(_user, 10)).Count != 10)
            {
                throw new InvalidOperationException($"User {_user} has fewer than 10 rides on its shard's replica.");
            }
        });
        if ((await _single.GetLatestForUserAsync(_user, 10)).Count != 10)
        {
            throw new InvalidOperationException($"User {_user} has fewer than 10 rides in the one database.");
        }
    }

    [Benchmark(Baseline = true)]
    public Task<IReadOnlyList<Ride>> OneDatabase_Latest10() => _single.GetLatestForUserAsync(_user, 10);

    [Benchmark]
    public Task<IReadOnlyList<Ride>> FourShards_Latest10() => _sharded.GetLatestForUserAsync(_user, 10);
}

/// <summary>
/// A one-shard write: BookAsync and CancelAsync of a user and driver on the same shard, on four shards (each write
/// also reads its GTID for read-your-writes) versus the one database. GlobalSetup also counts BookAsync's round
/// trips on both topologies, as the integration tests do, and records them for the headline.
/// </summary>
[BenchmarkCategory("Sharding: booking")]
public class ShardedBookingBenchmarks : ShardingBenchmarkBase
{
    public const string RoundTripsFact = "booking round trips, 4x1";
    public const string SingleRoundTripsFact = "booking round trips, one database";

    private long _user;
    private long _driver;
    private IRideBookingService _single = null!;
    private IRideBookingService _sharded = null!;

    protected override async Task GlobalSetupAsync()
    {
        await base.GlobalSetupAsync();
        (_user, _driver) = PairOnShard(2);
        _single = OneDatabase.GetRequiredService<IRideBookingService>();
        // Its own library: its writes make later reads of this shard wait for them, which the read benchmarks must not see.
        _sharded = NewShardedProvider().GetRequiredService<IRideBookingService>();

        // Warm both pools, then count the round trips of one booking on each topology.
        await BookAndCancelAsync(_single);
        await BookAndCancelAsync(_sharded);
        var sharded = await RoundTrips.CountAsync(() => _sharded.BookAsync(_user, _driver, 10m), ride => _sharded.CancelAsync(ride.Id));
        var single = await RoundTrips.CountAsync(() => _single.BookAsync(_user, _driver, 10m), ride => _single.CancelAsync(ride.Id));
        Console.WriteLine($"// round trips of BookAsync: 4x1 {sharded.Count} ({string.Join(", ", sharded)}), one database {single.Count} ({string.Join(", ", single)})");
        BenchmarkFacts.Record(RoundTripsFact, sharded.Count);
        BenchmarkFacts.Record(SingleRoundTripsFact, single.Count);
    }

    [Benchmark(Baseline = true)]
    public Task<Ride> OneDatabase_BookAndCancel() => BookAndCancelAsync(_single);

    [Benchmark]
    public Task<Ride> FourShards_BookAndCancel() => BookAndCancelAsync(_sharded);

    private async Task<Ride> BookAndCancelAsync(IRideBookingService booking) =>
        await booking.CancelAsync((await booking.BookAsync(_user, _driver, 25m)).Id);
}

/// <summary>
/// Top 5 drivers by earnings: fanned out to the replicas of four shards in parallel and merged, versus the one
/// database holding the same driver_earnings rows.
/// </summary>
[BenchmarkCategory("Sharding: top drivers")]
public class ShardedTopDriversBenchmarks : ShardingBenchmarkBase
{
    private IRideRepository _single = null!;
    private IRideRepository _sharded = null!;
    private IRideRepository _oneServerOfCluster = null!;

    protected override async Task GlobalSetupAsync()
    {
        await base.GlobalSetupAsync();
        _single = OneDatabase.GetRequiredService<IRideRepository>();
        _sharded = Sharded.GetRequiredService<IRideRepository>();

        // The same query on one shard of the cluster only (its replica, a quarter of the rows): what one server of
        // this cluster answers in, to tell the fan-out's own cost from the cluster's servers sharing the cores.
        var oneServer = Track(new ServiceCollection().AddRideBookingData(o => o.Shards.Add(new ShardOptions
        {
            Primary = Cluster.Shards[0].Primary,
            Replicas = { Cluster.Shards[0].Replicas[0] },
        })).BuildServiceProvider());
        _oneServerOfCluster = oneServer.GetRequiredService<IRideRepository>();
        await WaitUntilReplicasInRotationAsync(oneServer);
        await AssertServedByReplicasAsync(oneServer, "GetTopDriversAsync on one shard of the cluster", () => _oneServerOfCluster.GetTopDriversAsync(5));
        IReadOnlyList<RankedDriver> fanned = [];
        await AssertServedByReplicasAsync(Sharded, "GetTopDriversAsync", async () => fanned = await _sharded.GetTopDriversAsync(5));
        var one = await _single.GetTopDriversAsync(5);
        if (fanned.Count < 5 || !fanned.SequenceEqual(one))
        {
            throw new InvalidOperationException($"The fan-out's top 5 ({string.Join(", ", fanned)}) differ from the one database's ({string.Join(", ", one)}).");
        }
    }

    [Benchmark(Baseline = true)]
    public Task<IReadOnlyList<RankedDriver>> OneDatabase_Top5() => _single.GetTopDriversAsync(5);

    [Benchmark]
    public Task<IReadOnlyList<RankedDriver>> FourShards_Top5() => _sharded.GetTopDriversAsync(5);

    [Benchmark]
    public Task<IReadOnlyList<RankedDriver>> OneShardOfTheCluster_Top5() => _oneServerOfCluster.GetTopDriversAsync(5);
}

/// <summary>
/// A replica read (a user by id) whose read-your-writes wait is already satisfied versus the same read without a
/// wait: two libraries over the same cluster, one that wrote to the shard (its reads there send
/// <c>MASTER_GTID_WAIT</c> in the same round trip; replication was waited for after the write) and one that never wrote.
/// </summary>
[BenchmarkCategory("Sharding: replica read-your-writes")]
public class ShardedReplicaWaitBenchmarks : ShardingBenchmarkBase
{
    private const int Shard = 1;

    private long _user;
    private IUserRepository _plain = null!;
    private IUserRepository _waiting = null!;
    private ReplicaNode[] _writerReplicas = [];

    protected override async Task GlobalSetupAsync()
    {
        await base.GlobalSetupAsync();
        var (user, driver) = PairOnShard(Shard);
        _user = user;
        _plain = Sharded.GetRequiredService<IUserRepository>();
        var writer = NewShardedProvider();
        _waiting = writer.GetRequiredService<IUserRepository>();
        var booking = writer.GetRequiredService<IRideBookingService>();
        await booking.CancelAsync((await booking.BookAsync(user, driver, 15m)).Id);
        await Cluster.WaitForReplicationAsync();
        await WaitUntilReplicasInRotationAsync(writer);

        var writerShard = writer.GetRequiredService<RideBookingDataSource>().Shards[Shard];
        _writerReplicas = writerShard.Replicas;
        var plainShard = Sharded.GetRequiredService<RideBookingDataSource>().Shards[Shard];
        if (ReadYourWrites.RequiredFor(writerShard) is null)
        {
            throw new InvalidOperationException($"The writing library has no read-your-writes position on shard {Shard}: its reads would not wait.");
        }

        if (ReadYourWrites.RequiredFor(plainShard) is not null)
        {
            throw new InvalidOperationException($"The library that never wrote has a read-your-writes position on shard {Shard}.");
        }

        // Both served by the replica (a wait that was not satisfied would fall back to the primary and fail this).
        await AssertServedByReplicasAsync(writer, "the read with a satisfied wait", () => _waiting.GetAsync(_user));
        await AssertServedByReplicasAsync(Sharded, "the plain replica read", () => _plain.GetAsync(_user));
    }

    [Benchmark(Baseline = true)]
    public Task<User?> PlainReplicaRead() => _plain.GetAsync(_user);

    /// <summary>Steady state: the replica confirmed this process's position at an earlier read, so no wait is sent.</summary>
    [Benchmark]
    public Task<User?> SatisfiedWaitReplicaRead() => _waiting.GetAsync(_user);

    /// <summary>The first read after a write: the wait is sent (and already satisfied) in the read's round trip.</summary>
    [Benchmark]
    public Task<User?> SatisfiedWaitSentReplicaRead()
    {
        foreach (var replica in _writerReplicas)
        {
            replica.ConfirmedPosition = null;
        }

        return _waiting.GetAsync(_user);
    }
}

/// <summary>
/// Numbers measured once in a benchmark's setup rather than timed (round trips), handed to the host process for the
/// headline through a file that the host names in an environment variable.
/// </summary>
public static class BenchmarkFacts
{
    public const string FileVariable = "RIDEBOOKING_BENCH_FACTS";

    public static void Record(string name, double value)
    {
        if (Environment.GetEnvironmentVariable(FileVariable) is { Length: > 0 } path)
        {
            File.AppendAllLines(path, [$"{name}={value.ToString(CultureInfo.InvariantCulture)}"]);
        }
    }

    /// <summary>The last value recorded for each name in this run.</summary>
    public static Dictionary<string, double> Read()
    {
        var facts = new Dictionary<string, double>();
        if (Environment.GetEnvironmentVariable(FileVariable) is { Length: > 0 } path && File.Exists(path))
        {
            foreach (var line in File.ReadAllLines(path))
            {
                var at = line.LastIndexOf('=');
                if (at > 0 && double.TryParse(line.AsSpan(at + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    facts[line[..at]] = value;
                }
            }
        }

        return facts;
    }
}
