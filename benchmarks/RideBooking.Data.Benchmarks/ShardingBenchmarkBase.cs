using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Internal;
using RideBooking.Data.Testing;

namespace RideBooking.Data.Benchmarks;

/// <summary>
/// Benchmarks that compare a 4-primary x 1-replica cluster started by the test kit with one database of the suite's
/// server, both holding the same rows. Every benchmark process starts the cluster's servers once (about 5 s), in
/// GlobalSetup, creates its database, seeds both topologies and waits for the replicas; GlobalCleanup disposes the
/// library and drops the cluster's database (the servers end with the process).
/// </summary>
/// <remarks>
/// Rows: users and drivers get ids of <see cref="IdGenerator"/> with random logical shards and are written to the
/// physical shard that <see cref="IShardResolver.PhysicalShardOf"/> names (and all of them to the one database).
/// Every driver has a <c>driver_earnings</c> row (seeded directly, not rebuilt from the rides); every user has
/// <see cref="RidesPerUser"/> completed rides on the user's shard.
/// </remarks>
public abstract class ShardingBenchmarkBase
{
    public const int ShardCount = 4;

    public const int RidesPerUser = 12;

    protected const string SingleDatabase = "rb_bench_sharding";

    private static readonly DateTime Start = new(2026, 5, 1, 0, 0, 0, DateTimeKind.Utc);

    private readonly List<ServiceProvider> _providers = [];

    /// <summary>Gets a value indicating whether this is the smoke run (tiny data, what CI runs).</summary>
    protected static bool Smoke => BenchmarkData.SizeNames().Contains("tiny");

    protected static int DriverCount => Smoke ? 200 : 20_000;

    protected static int UserCount => Smoke ? 100 : 2_000;

    protected RideBookingTestCluster Cluster { get; private set; } = null!;

    /// <summary>Gets the library over the one database.</summary>
    protected ServiceProvider OneDatabase { get; private set; } = null!;

    /// <summary>Gets the library over the cluster; it never writes, so its reads are plain replica reads.</summary>
    protected ServiceProvider Sharded { get; private set; } = null!;

    protected long[] Users { get; private set; } = [];

    protected long[] Drivers { get; private set; } = [];

    /// <summary>Gets the physical shard (of 4) of a seeded user or driver.</summary>
    protected int[] UserShards { get; private set; } = [];

    protected int[] DriverShards { get; private set; } = [];

    [GlobalSetup]
    public void GlobalSetup() => GlobalSetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void GlobalCleanup() => GlobalCleanupAsync().GetAwaiter().GetResult();

    protected virtual async Task GlobalSetupAsync()
    {
        var clock = Stopwatch.StartNew();
        Cluster = await RideBookingTestCluster.CreateAsync(ShardCount, 1);
        var clusterReady = clock.Elapsed;
        var single = await CreateSingleDatabaseAsync();
        OneDatabase = Track(BenchmarkData.Library(SingleDatabase));
        Sharded = NewShardedProvider();
        var resolver = Sharded.GetRequiredService<IShardResolver>();
        if (resolver.PhysicalShardCount != ShardCount)
        {
            throw new InvalidOperationException($"The library sees {resolver.PhysicalShardCount} shards, not {ShardCount}.");
        }

        var random = new Random(20261127);
        var ids = new IdGenerator(TimeProvider.System, IdGenerator.MaxWorkerId);
        Drivers = [.. Enumerable.Range(0, DriverCount).Select(_ => ids.Next(random.Next(IdGenerator.LogicalShardCount)))];
        Users = [.. Enumerable.Range(0, UserCount).Select(_ => ids.Next(random.Next(IdGenerator.LogicalShardCount)))];
        DriverShards = [.. Drivers.Select(resolver.PhysicalShardOf)];
        UserShards = [.. Users.Select(resolver.PhysicalShardOf)];
        var earnings = Drivers.Select(_ => random.Next(5_000, 20_000_000) / 100m).ToArray();
        var rides = new List<(long Id, long User, long Driver, decimal Fare, DateTime At)>(UserCount * RidesPerUser);
        for (var u = 0; u < Users.Length; u++)
        {
            for (var r = 0; r < RidesPerUser; r++)
            {
                var at = Start.AddMinutes(random.Next(0, 180 * 24 * 60));
                rides.Add((ids.Next(IdGenerator.LogicalShardOf(Users[u])), Users[u], Drivers[random.Next(Drivers.Length)], random.Next(5_000, 200_000) / 100m, at));
            }
        }

        // The same rows into the one database (all of them) and into the cluster (each on its shard).
        var seeding = new List<Task> { SeedAsync(single, _ => true) };
        for (var shard = 0; shard < ShardCount; shard++)
        {
            var s = shard;
            seeding.Add(SeedAsync(Cluster.Shards[s].Primary, id => resolver.PhysicalShardOf(id) == s));
        }

        await Task.WhenAll(seeding);
        await Cluster.WaitForReplicationAsync();
        await WaitUntilReplicasInRotationAsync(Sharded);
        Console.WriteLine($"// sharding: {Cluster.Description}; cluster ready in {clusterReady.TotalSeconds:F1} s, " +
            $"{Drivers.Length:N0} drivers with earnings, {Users.Length:N0} users, {rides.Count:N0} rides seeded and replicated in {(clock.Elapsed - clusterReady).TotalSeconds:F1} s");

        async Task SeedAsync(string connectionString, Func<long, bool> here)
        {
            var d = Enumerable.Range(0, Drivers.Length).Where(i => here(Drivers[i])).ToArray();
            var u = Enumerable.Range(0, Users.Length).Where(i => here(Users[i])).ToArray();
            var rr = rides.Where(r => here(r.User)).ToArray();
            var created = Start.AddDays(-30);
            await BenchmarkData.InsertAsync(connectionString, "users", "id, name, phone, created_at", u.Length, TextWriter.Null, (i, values) =>
            {
                values.Add(Users[u[i]]);
                values.Add("Rider " + u[i].ToString(CultureInfo.InvariantCulture));
                values.Add("+1777" + u[i].ToString("D8", CultureInfo.InvariantCulture));
                values.Add(created);
            });
            await BenchmarkData.InsertAsync(connectionString, "drivers", "id, name, vehicle_number, available, created_at", d.Length, TextWriter.Null, (i, values) =>
            {
                values.Add(Drivers[d[i]]);
                values.Add("Driver " + d[i].ToString(CultureInfo.InvariantCulture));
                values.Add("KA-" + d[i].ToString("D6", CultureInfo.InvariantCulture));
                values.Add(true);
                values.Add(created);
            });
            await BenchmarkData.InsertAsync(connectionString, "driver_earnings", "driver_id, total_earnings, completed_rides, updated_at", d.Length, TextWriter.Null, (i, values) =>
            {
                values.Add(Drivers[d[i]]);
                values.Add(earnings[d[i]]);
                values.Add(RidesPerUser);
                values.Add(created);
            });
            await BenchmarkData.InsertAsync(connectionString, "rides", "id, user_id, driver_id, status, fare, created_at, updated_at", rr.Length, TextWriter.Null, (i, values) =>
            {
                values.Add(rr[i].Id);
                values.Add(rr[i].User);
                values.Add(rr[i].Driver);
                values.Add("COMPLETED");
                values.Add(rr[i].Fare);
                values.Add(rr[i].At);
                values.Add(rr[i].At.AddMinutes(30));
            });
            await using var connection = new MySqlConnection(connectionString);
            await connection.ExecuteAsync("ANALYZE TABLE users, drivers, rides, driver_earnings");
        }
    }

    protected virtual async Task GlobalCleanupAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }

        await Cluster.DisposeAsync();
    }

    /// <summary>A new, independent library over the cluster (its own pools, lag watch and read-your-writes state), disposed in GlobalCleanup.</summary>
    protected ServiceProvider NewShardedProvider()
    {
        var provider = Track(new ServiceCollection().AddRideBookingData(Cluster.Configure).BuildServiceProvider());
        // As in a host, resolving a repository starts the lag watch.
        _ = provider.GetRequiredService<IUserRepository>();
        return provider;
    }

    /// <summary>The index of a seeded user and of a seeded driver that live on <paramref name="shard"/>.</summary>
    protected (long User, long Driver) PairOnShard(int shard) =>
        (Users[Array.IndexOf(UserShards, shard)], Drivers[Array.IndexOf(DriverShards, shard)]);

    /// <summary>Waits until the lag watch of <paramref name="provider"/> has every replica in rotation.</summary>
    protected static async Task WaitUntilReplicasInRotationAsync(ServiceProvider provider)
    {
        var replicas = provider.GetRequiredService<RideBookingDataSource>().Shards.SelectMany(s => s.Replicas).ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!replicas.All(r => r.Healthy))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Replicas not in rotation after 60 s: " + string.Join(", ", replicas.Select(r => $"{r.Pool.Name}: {r.State}")));
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Runs <paramref name="read"/> once through <paramref name="provider"/> and fails unless every read it made was
    /// served by a replica (none went to a primary, none fell back).
    /// </summary>
    protected static async Task AssertServedByReplicasAsync(ServiceProvider provider, string what, Func<Task> read)
    {
        // On a busy machine the lag watch can take a replica out of rotation for a moment (a lag spike while the other
        // servers are seeded): wait for the rotation again and retry a few times before calling the setup wrong.
        for (var attempt = 1; ; attempt++)
        {
            await WaitUntilReplicasInRotationAsync(provider);
            try
            {
                await ReadServedByReplicasAsync(provider, what, read);
                return;
            }
            catch (InvalidOperationException) when (attempt < 5)
            {
                await Task.Delay(200);
            }
        }
    }

    private static async Task ReadServedByReplicasAsync(ServiceProvider provider, string what, Func<Task> read)
    {
        var counts = new ConcurrentDictionary<string, long>();
        var meter = provider.GetRequiredService<RideBookingMetrics>().Meter;
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, meter) && instrument.Name is "ridebooking.reads" or "ridebooking.replica.fallbacks")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                var key = instrument.Name;
                foreach (var tag in tags)
                {
                    if (tag.Key is "target" or "reason")
                    {
                        key += "|" + tag.Value;
                    }
                }

                counts.AddOrUpdate(key, value, (_, old) => old + value);
            });
            listener.Start();
            await read();
        }

        var replica = counts.GetValueOrDefault("ridebooking.reads|replica");
        if (replica == 0 || counts.Count != 1)
        {
            throw new InvalidOperationException($"{what} was not served by replicas only: {string.Join(", ", counts.Select(kv => $"{kv.Key}={kv.Value}"))}.");
        }
    }

    protected ServiceProvider Track(ServiceProvider provider)
    {
        _providers.Add(provider);
        return provider;
    }

    /// <summary>A fresh one-shard database on the suite's server, with the schema.</summary>
    private static async Task<string> CreateSingleDatabaseAsync()
    {
        await using (var server = new MySqlConnection(BenchmarkData.ServerConnectionString))
        {
            await server.OpenAsync();
            await server.ExecuteAsync($"DROP DATABASE IF EXISTS `{SingleDatabase}`; CREATE DATABASE `{SingleDatabase}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
        }

        var connectionString = BenchmarkData.ConnectionString(SingleDatabase);
        await RideBookingSchema.ApplyAsync(connectionString);
        return connectionString;
    }
}
