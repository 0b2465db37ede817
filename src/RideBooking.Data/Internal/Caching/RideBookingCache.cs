using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace RideBooking.Data.Internal;

/// <summary>
/// The library's own HybridCache (memory, then Redis), built in a private service provider so that the host's own
/// HybridCache, IDistributedCache or IMemoryCache are neither used nor changed. Counts hits and misses per entity kind;
/// a look-up that finds nothing is not cached (an id asked for before its row is visible must not stay "missing").
/// </summary>
internal sealed partial class RideBookingCache : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly HybridCacheEntryOptions _entry;
    private readonly RideBookingMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _disposing = new();
    private readonly RemovalFence _fence = new();

    public RideBookingCache(IOptions<RideBookingCacheOptions> cacheOptions, IOptions<RideBookingOptions> dataOptions, RideBookingMetrics metrics, TimeProvider time, ILoggerFactory? loggerFactory = null)
    {
        var options = cacheOptions.Value;
        Options = options;
        _metrics = metrics;
        _time = time;
        _logger = (ILogger?)loggerFactory?.CreateLogger<RideBookingCache>() ?? NullLogger.Instance;
        _entry = new HybridCacheEntryOptions { Expiration = options.Expiration, LocalCacheExpiration = options.LocalExpiration };

        // With replicas, an instance can fill the cache from a replica that has not yet applied another instance's write
        // (up to MaxReplicaLag behind, noticed within ReplicaCheckInterval); one second covers a fill that read the old
        // row just before the commit and wrote it to the cache just after the removal.
        var data = dataOptions.Value;
        SecondRemovalDelay = data.Shards.Any(s => s.Replicas.Count > 0)
            ? data.MaxReplicaLag + data.ReplicaCheckInterval + TimeSpan.FromSeconds(1)
            : TimeSpan.FromSeconds(1);

        var redisOptions = RedisOptions(options);
        var redis = new RedisCache(Microsoft.Extensions.Options.Options.Create(new RedisCacheOptions { ConfigurationOptions = redisOptions, InstanceName = options.KeyPrefix }));
        var logger = (ILogger?)loggerFactory?.CreateLogger<ResilientDistributedCache>() ?? NullLogger.Instance;
        Redis = new ResilientDistributedCache(redis, options.RedisRetryInterval, time, metrics, logger, _fence);

        var services = new ServiceCollection();
        services.AddSingleton(time);
        if (loggerFactory is not null)
        {
            services.AddSingleton(loggerFactory);
        }

        services.AddSingleton<IDistributedCache>(Redis);
        services.AddHybridCache(hybrid => hybrid.DefaultEntryOptions = _entry);
        _services = services.BuildServiceProvider();
        Cache = _services.GetRequiredService<HybridCache>();
    }

    public RideBookingCacheOptions Options { get; }

    public HybridCache Cache { get; }

    /// <summary>Gets the second level (tests look at its postponed removals).</summary>
    internal ResilientDistributedCache Redis { get; }

    /// <summary>Gets how long after a write its keys are removed a second time.</summary>
    internal TimeSpan SecondRemovalDelay { get; }

    /// <summary>
    /// StackExchange.Redis settings for a cache that must never hold a request up: short connect and command timeouts,
    /// no failure when Redis is down at start-up (it connects in the background), and commands issued while disconnected
    /// fail at once instead of waiting in the backlog for a reconnection.
    /// </summary>
    internal static ConfigurationOptions RedisOptions(RideBookingCacheOptions options)
    {
        var redis = ConfigurationOptions.Parse(options.RedisConfiguration!);
        redis.AbortOnConnectFail = false;
        redis.ConnectRetry = 1;
        redis.ConnectTimeout = Milliseconds(options.RedisConnectTimeout);
        redis.SyncTimeout = Milliseconds(options.RedisOperationTimeout);
        redis.AsyncTimeout = Milliseconds(options.RedisOperationTimeout);
        redis.BacklogPolicy = BacklogPolicy.FailFast;
        return redis;
    }

    /// <summary>
    /// The cached value of <paramref name="key"/>, or <paramref name="load"/>'s (one load per key at a time in this
    /// instance: HybridCache's stampede protection). <see langword="null"/> from the load is returned, not cached; so is
    /// a value loaded while this instance removed the key (it may predate the write that removed it).
    /// </summary>
    public async ValueTask<T?> GetOrLoadAsync<TState, T>(string kind, string key, TState state, Func<TState, CancellationToken, Task<T?>> load, CancellationToken cancellationToken)
        where T : class
    {
        var fill = new Fill<TState, T>(state, load, _fence, key);
        try
        {
            var entry = await Cache.GetOrCreateAsync(key, fill, static (f, token) => f.RunAsync(token), _entry, null, cancellationToken).ConfigureAwait(false);
            if (fill.Loaded)
            {
                _metrics.CacheMiss(kind);
            }
            else
            {
                _metrics.CacheHit(kind);
            }

            return entry.Value;
        }
        catch (NotFoundSignal)
        {
            _metrics.CacheMiss(kind);
            return null;
        }
        catch (NotCachedSignal<T> overtaken)
        {
            _metrics.CacheMiss(kind);
            return overtaken.Value;
        }
    }

    /// <summary>
    /// Removes keys from this instance's memory and from Redis now, and once more after <see cref="SecondRemovalDelay"/>
    /// (see the constructor). Never throws.
    /// </summary>
    public async ValueTask RemoveAsync(IReadOnlyList<string> keys)
    {
        await RemoveQuietlyAsync(keys).ConfigureAwait(false);
        _ = RemoveLaterAsync(keys);
    }

    public void Dispose()
    {
        // Second removals still waiting are dropped: the cache they would remove from is going away.
        _disposing.Cancel();
        _disposing.Dispose();
        _services.Dispose();
        Redis.Dispose();
    }

    private async Task RemoveLaterAsync(IReadOnlyList<string> keys)
    {
        try
        {
            await Task.Delay(SecondRemovalDelay, _time, _disposing.Token).ConfigureAwait(false);
            await RemoveQuietlyAsync(keys).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The cache was disposed meanwhile.
        }
    }

    private async ValueTask RemoveQuietlyAsync(IReadOnlyList<string> keys)
    {
        foreach (var key in keys)
        {
            _fence.Removing(key);
        }

        try
        {
            await Cache.RemoveAsync(keys, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The write this follows has committed: a cache that cannot be told must not fail it (values then expire).
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogRemoveFailed(_logger, ex.GetType().Name);
        }
    }

    private static int Milliseconds(TimeSpan value) => (int)Math.Clamp(value.TotalMilliseconds, 1, int.MaxValue);

    [LoggerMessage(EventId = 41, Level = LogLevel.Warning, Message = "RideBooking.Data cache: a removal failed ({Error}); the values expire on their own")]
    private static partial void LogRemoveFailed(ILogger logger, string error);

    /// <summary>
    /// One caller's load: remembers whether it ran (a miss), and turns "not found" and "a removal came during the load"
    /// into exceptions, which HybridCache does not cache.
    /// </summary>
    private sealed class Fill<TState, T>(TState state, Func<TState, CancellationToken, Task<T?>> load, RemovalFence fence, string key)
        where T : class
    {
        public bool Loaded { get; private set; }

        public async ValueTask<CachedEntry<T>> RunAsync(CancellationToken cancellationToken)
        {
            Loaded = true;
            var generation = fence.Current(key);
            var value = await load(state, cancellationToken).ConfigureAwait(false) ?? throw new NotFoundSignal();
            return fence.Loaded(key, generation) ? new CachedEntry<T>(value) : throw new NotCachedSignal<T>(value);
        }
    }

#pragma warning disable CA1064, CA1032 // Never leave this class: they only carry a value through HybridCache without caching it.
    private sealed class NotFoundSignal : Exception;

    private sealed class NotCachedSignal<T>(T value) : Exception
    {
        public T Value { get; } = value;
    }
#pragma warning restore CA1064, CA1032
}
