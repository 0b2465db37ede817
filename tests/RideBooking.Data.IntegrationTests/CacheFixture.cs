using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using RideBooking.Data.Internal;
using RideBooking.Data.Testing;

namespace RideBooking.Data.IntegrationTests;

/// <summary>One database and one Redis per test class; each test builds its own cached services over them.</summary>
public sealed class CacheFixture : IAsyncLifetime
{
    private RideBookingTestDatabase? _database;
    private RideBookingTestRedis? _redis;

    public RideBookingTestDatabase Database => _database ?? throw new InvalidOperationException("Not initialized.");

    public RideBookingTestRedis Redis => _redis ?? throw new InvalidOperationException("Not initialized.");

    public async Task InitializeAsync()
    {
        _database = await RideBookingTestDatabase.CreateAsync();
        _redis = await RideBookingTestRedis.CreateAsync();
    }

    public async Task DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}

/// <summary>
/// The library with the cache registered, as one application instance would have it, plus the counts of its own
/// instruments. Instances built with the same key prefix share their Redis entries, like two instances of one application.
/// </summary>
public sealed class CachedServices : IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _counts = new();

    public CachedServices(string databaseConnectionString, string redisConfiguration, string keyPrefix, Action<RideBookingCacheOptions>? configure = null)
    {
        // The cache is registered before the library: the order of the two calls must not matter.
        _provider = DatabaseFixture.BuildServices(databaseConnectionString, register: services => services.AddRideBookingCache(o =>
        {
            o.RedisConfiguration = redisConfiguration;
            o.KeyPrefix = keyPrefix;
            configure?.Invoke(o);
        }));
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
    }

    public static string NewKeyPrefix() => $"test-{Guid.NewGuid():N}:";

    public IServiceProvider Services => _provider;

    public IUserRepository Users => _provider.GetRequiredService<IUserRepository>();

    public IDriverRepository Drivers => _provider.GetRequiredService<IDriverRepository>();

    public IRideBookingService Booking => _provider.GetRequiredService<IRideBookingService>();

    internal RideBookingCache Cache => _provider.GetRequiredService<RideBookingCache>();

    /// <summary>The sum of a counter's measurements whose tags include every given tag ("kind=driver").</summary>
    public long Count(string instrument, params string[] tags) =>
        _counts.Where(kv => kv.Key.Split('|')[0] == instrument && tags.All(t => kv.Key.Split('|').Contains(t))).Sum(kv => kv.Value);

    /// <summary>Every tag key and value recorded on a counter.</summary>
    public IEnumerable<string> Tags(string instrument) =>
        _counts.Keys.Where(k => k.Split('|')[0] == instrument).SelectMany(k => k.Split('|').Skip(1)).Distinct();

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _provider.DisposeAsync();
    }
}
