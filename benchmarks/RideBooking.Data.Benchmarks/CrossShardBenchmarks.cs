using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Benchmarks;

/// <summary>
/// Cross-shard operations on the 4 x 1 cluster: helpers to make ids on a chosen physical shard and to run plain SQL on
/// every primary (the one-database side of <see cref="ShardingBenchmarkBase"/> is not used here).
/// </summary>
public abstract class CrossShardBenchmarkBase : ShardingBenchmarkBase
{
    // Its own worker id: the seeding generator (worker MaxWorkerId) runs ahead of the clock while it bulk-seeds (16 ids
    // per millisecond, then it borrows the next one), so a second generator with the same worker id would repeat its ids.
    private readonly IdGenerator _ids = new(TimeProvider.System, IdGenerator.MaxWorkerId - 1);
    private readonly Random _random = new(20261128);
    private int[][] _logicalByPhysical = [];

    protected override async Task GlobalSetupAsync()
    {
        await base.GlobalSetupAsync();
        var resolver = Sharded.GetRequiredService<ShardResolver>();
        _logicalByPhysical = [.. Enumerable.Range(0, ShardCount).Select(s => Enumerable.Range(0, IdGenerator.LogicalShardCount).Where(l => resolver.PhysicalShardOfLogical(l) == s).ToArray())];
    }

    /// <summary>A new id whose logical shard lives on physical shard <paramref name="shard"/>.</summary>
    protected long NewId(int shard)
    {
        var logical = _logicalByPhysical[shard];
        return _ids.Next(logical[_random.Next(logical.Length)]);
    }

    /// <summary>A new ride id for <paramref name="userId"/>: it carries the user's logical shard, as BookAsync's do.</summary>
    protected long NewRideId(long userId) => _ids.Next(IdGenerator.LogicalShardOf(userId));

    /// <summary>Inserts users and drivers, each on the primary of its own shard.</summary>
    protected async Task AddUsersAndDriversAsync(long[] users, long[] drivers)
    {
        var resolver = Sharded.GetRequiredService<IShardResolver>();
        var created = new DateTime(2026, 4, 1, 0, 0, 0, DateTimeKind.Utc);
        await Task.WhenAll(Enumerable.Range(0, ShardCount).Select(async shard =>
        {
            var u = Enumerable.Range(0, users.Length).Where(i => resolver.PhysicalShardOf(users[i]) == shard).ToArray();
            var d = drivers.Where(id => resolver.PhysicalShardOf(id) == shard).ToArray();
            await BenchmarkData.InsertAsync(Cluster.Shards[shard].Primary, "users", "id, name, phone, created_at", u.Length, TextWriter.Null, (i, values) =>
            {
                values.Add(users[u[i]]);
                values.Add("Pool rider");
                values.Add("+1888" + u[i].ToString("D8", CultureInfo.InvariantCulture));
                values.Add(created);
            });
            await BenchmarkData.InsertAsync(Cluster.Shards[shard].Primary, "drivers", "id, name, vehicle_number, available, created_at", d.Length, TextWriter.Null, (i, values) =>
            {
                values.Add(d[i]);
                values.Add("Pool driver");
                values.Add("KA-POOL");
                values.Add(true);
                values.Add(created);
            });
        }));
    }

    /// <summary>Runs <paramref name="sql"/> on the primary of every shard at once.</summary>
    protected Task OnEveryPrimaryAsync(string sql) => Task.WhenAll(Cluster.Shards.Select(async shard =>
    {
        await using var connection = new MySqlConnection(shard.Primary);
        await connection.OpenAsync();
        await connection.ExecuteAsync(sql, commandTimeout: 300);
    }));

    /// <summary>Every active ride cancelled, every driver available, no hold left: the pool as it was seeded.</summary>
    protected Task ResetBookingsAsync() => OnEveryPrimaryAsync("""
        UPDATE rides SET status = 'CANCELLED' WHERE status IN ('REQUESTED', 'ACCEPTED');
        UPDATE drivers SET available = TRUE WHERE available = FALSE;
        DELETE FROM driver_holds;
        """);
}

/// <summary>
/// Latency of one booking (BookAsync + CancelAsync, like <see cref="ShardedBookingBenchmarks"/>) on the 4 x 1 cluster:
/// user and driver on the same physical shard (one local transaction each) versus on different physical shards (hold
/// on the driver's shard, ride and decision on the user's; the cancellation's message relayed to the driver's shard).
/// GlobalSetup counts the round trips of each BookAsync and records them for the headline.
/// </summary>
[BenchmarkCategory("Sharding: cross-shard booking")]
public class CrossShardBookingBenchmarks : CrossShardBenchmarkBase
{
    public const string SameShardRoundTripsFact = "booking round trips, same shard, 4x1";
    public const string CrossShardRoundTripsFact = "booking round trips, across shards, 4x1";

    private (long User, long Driver) _same;
    private (long User, long Driver) _across;
    private IRideBookingService _booking = null!;

    protected override async Task GlobalSetupAsync()
    {
        await base.GlobalSetupAsync();
        const int UserShard = 2, DriverShard = 3;
        _same = PairOnShard(UserShard);
        _across = (Users.Where((_, i) => UserShards[i] == UserShard).Skip(1).First(), Drivers.Where((_, i) => DriverShards[i] == DriverShard).Skip(1).First());
        _booking = NewShardedProvider().GetRequiredService<IRideBookingService>();

        // Warm the pools of both shards, then count the round trips of one booking of each kind.
        await SameShard_BookAndCancel();
        await CrossShard_BookAndCancel();
        var same = await RoundTrips.CountAsync(() => _booking.BookAsync(_same.User, _same.Driver, 10m), ride => _booking.CancelAsync(ride.Id));
        var across = await RoundTrips.CountAsync(() => _booking.BookAsync(_across.User, _across.Driver, 10m), ride => _booking.CancelAsync(ride.Id));
        Console.WriteLine($"// round trips of BookAsync on 4x1: same shard {same.Count} ({string.Join(", ", same)}), across shards {across.Count} ({string.Join(", ", across)})");
        BenchmarkFacts.Record(SameShardRoundTripsFact, same.Count);
        BenchmarkFacts.Record(CrossShardRoundTripsFact, across.Count);
    }

    [Benchmark(Baseline = true)]
    public Task<Ride> SameShard_BookAndCancel() => BookAndCancelAsync(_same);

    [Benchmark]
    public Task<Ride> CrossShard_BookAndCancel() => BookAndCancelAsync(_across);

    private async Task<Ride> BookAndCancelAsync((long User, long Driver) pair) =>
        await _booking.CancelAsync((await _booking.BookAsync(pair.User, pair.Driver, 25m)).Id);
}

/// <summary>
/// 16 concurrent clients book rides over the 4 shards, every booking on a distinct user and driver: all of them on
/// the driver's own shard (baseline) versus half of them across shards. Time per booking, the inverse of throughput.
/// </summary>
[InvocationCount(Invocations, unrollFactor: 1)]
[BenchmarkCategory("Sharding: cross-shard throughput")]
public class CrossShardThroughputBenchmarks : CrossShardBenchmarkBase
{
    private const int Invocations = 4;
    private const int Clients = 16;
    private const int BookingsPerClient = 8;
    private const int BookingsPerInvoke = Clients * BookingsPerClient;
    private const int PoolSize = Invocations * BookingsPerInvoke;

    private long[] _users = [];
    private long[] _drivers = [];
    private long[] _halfAcross = [];
    private IRideBookingService _booking = null!;
    private int _next;

    protected override async Task GlobalSetupAsync()
    {
        await base.GlobalSetupAsync();

        // Slot i: a user and a driver on shard i % 4. In the mixed case, every other block of 4 slots pairs each user
        // with the driver of the next slot in its block, which lives on the next shard.
        _users = [.. Enumerable.Range(0, PoolSize).Select(i => NewId(i % ShardCount))];
        _drivers = [.. Enumerable.Range(0, PoolSize).Select(i => NewId(i % ShardCount))];
        _halfAcross = [.. Enumerable.Range(0, PoolSize).Select(i => i / ShardCount % 2 == 0 ? _drivers[i] : _drivers[(i / ShardCount * ShardCount) + ((i + 1) % ShardCount)])];
        var resolver = Sharded.GetRequiredService<IShardResolver>();
        var across = Enumerable.Range(0, PoolSize).Count(i => resolver.PhysicalShardOf(_users[i]) != resolver.PhysicalShardOf(_halfAcross[i]));
        if (across != PoolSize / 2 || Enumerable.Range(0, PoolSize).Any(i => resolver.PhysicalShardOf(_users[i]) != resolver.PhysicalShardOf(_drivers[i])))
        {
            throw new InvalidOperationException($"The pool is not laid out as intended ({across} of {PoolSize} mixed bookings cross shards).");
        }

        await AddUsersAndDriversAsync(_users, _drivers);
        _booking = NewShardedProvider().GetRequiredService<IRideBookingService>();
    }

    [IterationSetup]
    public void IterationSetup()
    {
        ResetBookingsAsync().GetAwaiter().GetResult();
        _next = 0;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BookingsPerInvoke)]
    public Task AllSameShard_16Clients() => RunClientsAsync(_drivers);

    [Benchmark(OperationsPerInvoke = BookingsPerInvoke)]
    public Task HalfAcrossShards_16Clients() => RunClientsAsync(_halfAcross);

    /// <summary>Every client books its own slots one after the other; the clients run concurrently.</summary>
    private Task RunClientsAsync(long[] drivers)
    {
        var first = _next;
        _next += BookingsPerInvoke;
        return Task.WhenAll(Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            for (var i = 0; i < BookingsPerClient; i++)
            {
                var slot = first + (client * BookingsPerClient) + i;
                await _booking.BookAsync(_users[slot], drivers[slot], 25m);
            }
        })));
    }
}

/// <summary>
/// One <see cref="IRideBookingRecovery.RunAsync"/> pass over interrupted cross-shard operations, re-created by plain SQL
/// before every iteration (not measured), all older than the grace period. Half are bookings abandoned after the hold
/// (a hold and an unavailable driver on the driver's shard, nothing on the user's): the pass fences the ride id and
/// releases the driver. Half are rides that were stored (COMMITTED decision) and then completed or cancelled, whose
/// message to the driver's shard was never relayed (ride + decision + outbox message on the user's shard, the hold on
/// the driver's): the pass applies the message (release, and the fare for a completion) and deletes it. Every
/// operation is one repair; the pass must report exactly <see cref="Operations"/>.
/// </summary>
[InvocationCount(1, unrollFactor: 1)]
[WarmupCount(1)]
[IterationCount(3)]
[BenchmarkCategory("Sharding: cross-shard recovery")]
public class CrossShardRecoveryBenchmarks : CrossShardBenchmarkBase
{
    public static int Operations => Smoke ? 50 : 10_000;

    private static readonly TimeSpan Age = TimeSpan.FromHours(1);

    private IRideBookingRecovery _recovery = null!;

    protected override async Task GlobalSetupAsync()
    {
        await base.GlobalSetupAsync();
        if (Operations > DriverCount)
        {
            throw new InvalidOperationException($"{Operations} operations need as many drivers; {DriverCount} are seeded.");
        }

        _recovery = NewShardedProvider().GetRequiredService<IRideBookingRecovery>();
    }

    [IterationSetup]
    public void IterationSetup() => CreateInterruptedAsync().GetAwaiter().GetResult();

    [Benchmark]
    public async Task<int> RecoveryPass()
    {
        var repaired = await _recovery.RunAsync();
        return repaired == Operations ? repaired : throw new InvalidOperationException($"The pass repaired {repaired} operations, not {Operations}.");
    }

    private async Task CreateInterruptedAsync()
    {
        await OnEveryPrimaryAsync("DELETE FROM driver_holds; DELETE FROM cross_shard_outbox; UPDATE drivers SET available = TRUE WHERE available = FALSE;");
        var old = DateTime.UtcNow - Age;
        old = old.AddTicks(-(old.Ticks % 10));
        var usersByShard = Enumerable.Range(0, ShardCount).Select(s => Users.Where((_, i) => UserShards[i] == s).ToArray()).ToArray();
        var operations = Enumerable.Range(0, Operations).Select(i =>
        {
            // Driver i, and a user on the next physical shard: every operation crosses shards.
            var driverShard = DriverShards[i];
            var users = usersByShard[(driverShard + 1) % ShardCount];
            var user = users[i % users.Length];
            return (Driver: Drivers[i], DriverShard: driverShard, User: user, UserShard: (driverShard + 1) % ShardCount, Ride: NewRideId(user),
                Stored: i % 2 == 1, Kind: i % 4 == 1 ? "COMPLETED" : "CANCELLED", Fare: 10m + (i % 90));
        }).ToArray();

        await Task.WhenAll(Enumerable.Range(0, ShardCount).Select(async shard =>
        {
            var primary = Cluster.Shards[shard].Primary;
            var holds = operations.Where(o => o.DriverShard == shard).ToArray();
            var stored = operations.Where(o => o.Stored && o.UserShard == shard).ToArray();
            await BenchmarkData.InsertAsync(primary, "driver_holds", "driver_id, ride_id, held_at", holds.Length, TextWriter.Null, (i, values) =>
            {
                values.Add(holds[i].Driver);
                values.Add(holds[i].Ride);
                values.Add(old);
            });
            await BenchmarkData.InsertAsync(primary, "cross_shard_decisions", "id, outcome, decided_at", stored.Length, TextWriter.Null, (i, values) =>
            {
                values.Add(stored[i].Ride);
                values.Add("COMMITTED");
                values.Add(old);
            });
            await BenchmarkData.InsertAsync(primary, "rides", "id, user_id, driver_id, status, fare, created_at, updated_at", stored.Length, TextWriter.Null, (i, values) =>
            {
                values.Add(stored[i].Ride);
                values.Add(stored[i].User);
                values.Add(stored[i].Driver);
                values.Add(stored[i].Kind);
                values.Add(stored[i].Fare);
                values.Add(old);
                values.Add(old);
            });
            await BenchmarkData.InsertAsync(primary, "cross_shard_outbox", "ride_id, kind, driver_id, fare, created_at", stored.Length, TextWriter.Null, (i, values) =>
            {
                values.Add(stored[i].Ride);
                values.Add(stored[i].Kind);
                values.Add(stored[i].Driver);
                values.Add(stored[i].Fare);
                values.Add(old);
            });
            await using var connection = new MySqlConnection(primary);
            await connection.OpenAsync();
            await connection.ExecuteAsync("UPDATE drivers d JOIN driver_holds h ON h.driver_id = d.id SET d.available = FALSE");
        }));
    }
}

/// <summary>Counts the round trips of one call as the integration tests do.</summary>
public static class RoundTrips
{
    private const string ProbeName = "RideBooking.Data.Benchmarks.RoundTrips";
    private static readonly ActivitySource Probe = new(ProbeName);

    /// <summary>
    /// The commands, commits and rollbacks MySqlConnector reports on its "MySqlConnector" activity source during
    /// <paramref name="call"/> (taking a pooled connection is not a round trip: the library's pools do not reset on
    /// checkout); <paramref name="undo"/> runs afterwards, not counted.
    /// </summary>
    public static async Task<List<string>> CountAsync<T>(Func<Task<T>> call, Func<T, Task> undo)
    {
        var seen = new ConcurrentQueue<Activity>();
        T result;
        ActivityTraceId traceId;
        using (var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "MySqlConnector" or ProbeName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = seen.Enqueue,
        })
        {
            ActivitySource.AddActivityListener(listener);
            using var parent = Probe.StartActivity("call") ?? throw new InvalidOperationException("The probe activity was not sampled.");
            traceId = parent.TraceId;
            result = await call();
        }

        await undo(result);
        return [.. seen.Where(a => a.Source.Name == "MySqlConnector" && a.TraceId == traceId && !a.DisplayName.StartsWith("Open", StringComparison.Ordinal)).Select(a => a.DisplayName)];
    }
}
