using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Internal;
using RideBooking.Data.Testing;

namespace RideBooking.Data.IntegrationTests;

/// <summary>The library registered over a test cluster as a host would, plus what sharded tests look at from outside.</summary>
public sealed class ShardedServices : IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _counts = new();

    public ShardedServices(RideBookingTestCluster cluster, Action<RideBookingOptions>? configure = null, Action<IServiceCollection>? register = null)
    {
        Cluster = cluster;
        var services = new ServiceCollection();
        register?.Invoke(services);
        services.AddRideBookingData(o =>
        {
            cluster.Configure(o);
            o.ReplicaCheckInterval = TimeSpan.FromMilliseconds(100);
            configure?.Invoke(o);
        });
        _provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        // Counts this provider's own instruments only (other tests run in parallel with their own meters).
        var meter = _provider.GetRequiredService<RideBookingMetrics>().Meter;
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = instrument.Name;
            foreach (var tag in tags)
            {
                key += $"|{tag.Key}={tag.Value}";
            }

            _counts.AddOrUpdate(key, value, (_, old) => old + value);
        });
        _listener.Start();

        // As in a host, resolving the library starts the lag watch.
        _ = _provider.GetRequiredService<IUserRepository>();
    }

    public RideBookingTestCluster Cluster { get; }

    public IServiceProvider Services => _provider;

    public IUserRepository Users => _provider.GetRequiredService<IUserRepository>();

    public IDriverRepository Drivers => _provider.GetRequiredService<IDriverRepository>();

    public IRideRepository Rides => _provider.GetRequiredService<IRideRepository>();

    public IPaymentRepository Payments => _provider.GetRequiredService<IPaymentRepository>();

    public IRideBookingService Booking => _provider.GetRequiredService<IRideBookingService>();

    public IShardResolver Resolver => _provider.GetRequiredService<IShardResolver>();

    public IReadYourWrites ReadYourWrites => _provider.GetRequiredService<IReadYourWrites>();

    internal PhysicalShard[] Topology => _provider.GetRequiredService<RideBookingDataSource>().Shards;

    /// <summary>The sum of a counter's measurements whose tags include every given tag ("shard=1", "target=replica").</summary>
    public long Count(string instrument, params string[] tags) =>
        _counts.Where(kv => kv.Key.Split('|')[0] == instrument && tags.All(t => kv.Key.Split('|').Contains(t))).Sum(kv => kv.Value);

    private static int _phones;

    public static string NextPhone() => $"+1666{Environment.ProcessId % 1000:D3}{Interlocked.Increment(ref _phones):D7}";

    /// <summary>New users land on the logical shards in turn; this returns one that lives on the given physical shard.</summary>
    public async Task<User> NewUserOnShardAsync(int shard)
    {
        for (var i = 0; i < 64; i++)
        {
            var user = await Users.CreateAsync("Rider " + i, NextPhone());
            if (Resolver.PhysicalShardOf(user.Id) == shard)
            {
                return user;
            }
        }

        throw new InvalidOperationException($"No new user landed on physical shard {shard}.");
    }

    public async Task<Driver> NewDriverOnShardAsync(int shard)
    {
        for (var i = 0; i < 64; i++)
        {
            var driver = await Drivers.CreateAsync("Driver " + i, "KA-" + i);
            if (Resolver.PhysicalShardOf(driver.Id) == shard)
            {
                return driver;
            }
        }

        throw new InvalidOperationException($"No new driver landed on physical shard {shard}.");
    }

    /// <summary>Waits until the lag watch has every replica in rotation.</summary>
    public Task WaitUntilReplicasInRotationAsync() => WaitUntilAsync(
        () => Topology.SelectMany(s => s.Replicas).All(r => r.Healthy),
        () => "every replica in rotation (" + string.Join(", ", Topology.SelectMany(s => s.Replicas).Select(r => $"{r.Pool.Name}: {r.State}")) + ")");

    public static Task WaitUntilAsync(Func<bool> condition, string what, int seconds = 60) => WaitUntilAsync(condition, () => what, seconds);

    public static async Task WaitUntilAsync(Func<bool> condition, Func<string> what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Gave up waiting for {what()} after {seconds} s.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>The physical shards whose primary holds a row of <paramref name="table"/> with this key.</summary>
    public async Task<List<int>> ShardsHoldingAsync(string table, long id, string column = "id")
    {
        var holding = new List<int>();
        for (var shard = 0; shard < Cluster.Shards.Count; shard++)
        {
            await using var connection = new MySqlConnection(Cluster.Shards[shard].Primary);
            // Table and column names come from the test itself, never from input.
            if (await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table} WHERE {column} = @id", new { id }) > 0)
            {
                holding.Add(shard);
            }
        }

        return holding;
    }

    /// <summary>CHECKSUM TABLE of every table on every primary: equal before and after means nothing was written anywhere.</summary>
    public async Task<string> ChecksumAllAsync()
    {
        var sums = new List<string>();
        foreach (var shard in Cluster.Shards)
        {
            await using var connection = new MySqlConnection(shard.Primary);
            var rows = await connection.QueryAsync("CHECKSUM TABLE users, drivers, rides, payments, driver_earnings");
            sums.Add(string.Join(";", rows.Select(r => $"{r.Table}={r.Checksum}")));
        }

        return string.Join(" | ", sums);
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _provider.DisposeAsync();
    }
}
