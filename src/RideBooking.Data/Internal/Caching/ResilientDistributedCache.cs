using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;

namespace RideBooking.Data.Internal;

/// <summary>
/// Redis as the cache's second level, never failing the caller: a failed read is a miss, a failed write is dropped,
/// each counted in <c>ridebooking.cache.fallbacks</c>. After a failure Redis is left alone for
/// <see cref="RideBookingCacheOptions.RedisRetryInterval"/> (operations are skipped at once instead of each waiting
/// for a timeout); removals that failed or were skipped are sent again, before anything else, when Redis is tried again,
/// so a value a write invalidated does not come back from Redis afterwards. Writes pass the <see cref="RemovalFence"/>:
/// a value loaded before one of this instance's removals is not written, or is removed again when the removal came
/// while the write was in flight.
/// </summary>
internal sealed partial class ResilientDistributedCache(IDistributedCache redis, TimeSpan retryInterval, TimeProvider time, RideBookingMetrics metrics, ILogger logger, RemovalFence fence) : IDistributedCache, IDisposable
{
    /// <summary>Removals kept for a later retry at most; beyond that, values expire on their own (Expiration).</summary>
    internal const int MaxPendingRemovals = 10_000;

    private readonly ConcurrentDictionary<string, byte> _pendingRemovals = new(StringComparer.Ordinal);
    private long _skipUntil;

    /// <summary>Gets the removals waiting for Redis to answer again.</summary>
    internal int PendingRemovals => _pendingRemovals.Count;

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        if (!await ReadyAsync(key, token).ConfigureAwait(false))
        {
            return null;
        }

        try
        {
            return await redis.GetAsync(key, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRedisFailure(ex, token))
        {
            Failed(key, ex);
            return null;
        }
    }

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        if (fence.BeginWrite(key) is not { } generation || !await ReadyAsync(key, token).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            await redis.SetAsync(key, value, options, token).ConfigureAwait(false);
            if (fence.OvertakenDuringWrite(key, generation))
            {
                // The removal may have reached Redis before this write did: remove again, after it.
                await redis.RemoveAsync(key, token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsRedisFailure(ex, token))
        {
            Failed(key, ex);
        }
    }

    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        if (!await ReadyAsync(key, token).ConfigureAwait(false))
        {
            Postpone(key);
            return;
        }

        try
        {
            await redis.RemoveAsync(key, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRedisFailure(ex, token))
        {
            Failed(key, ex);
            Postpone(key);
        }
    }

    public async Task RefreshAsync(string key, CancellationToken token = default)
    {
        if (!await ReadyAsync(key, token).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            await redis.RefreshAsync(key, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRedisFailure(ex, token))
        {
            Failed(key, ex);
        }
    }

    // HybridCache uses the asynchronous methods only; the synchronous ones follow the same rules.
    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    public void Dispose() => (redis as IDisposable)?.Dispose();

    /// <summary>False (counted) while Redis is left alone; otherwise sends the postponed removals first.</summary>
    private async ValueTask<bool> ReadyAsync(string key, CancellationToken token)
    {
        if (time.GetTimestamp() < Volatile.Read(ref _skipUntil))
        {
            metrics.CacheFallback(CacheKeys.KindOf(key), "skipped");
            return false;
        }

        if (_pendingRemovals.IsEmpty)
        {
            return true;
        }

        foreach (var pending in _pendingRemovals.Keys)
        {
            try
            {
                await redis.RemoveAsync(pending, token).ConfigureAwait(false);
                _pendingRemovals.TryRemove(pending, out _);
            }
            catch (Exception ex) when (IsRedisFailure(ex, token))
            {
                Failed(pending, ex);
                return false;
            }
        }

        return true;
    }

    private void Postpone(string key)
    {
        if (_pendingRemovals.Count < MaxPendingRemovals)
        {
            _pendingRemovals.TryAdd(key, 0);
        }
    }

    private void Failed(string key, Exception ex)
    {
        metrics.CacheFallback(CacheKeys.KindOf(key), "error");
        var now = time.GetTimestamp();
        var until = now + (long)(retryInterval.TotalSeconds * time.TimestampFrequency);
        var previous = Interlocked.Exchange(ref _skipUntil, until);
        if (previous <= now)
        {
            // Once per outage: the exception's type only, since Redis messages name endpoints.
            LogRedisFailed(logger, ex.GetType().Name, retryInterval);
        }
    }

    /// <summary>Everything but the caller's own cancellation is a Redis failure to absorb.</summary>
    private static bool IsRedisFailure(Exception ex, CancellationToken token) => !(ex is OperationCanceledException && token.IsCancellationRequested);

    [LoggerMessage(EventId = 40, Level = LogLevel.Warning, Message = "RideBooking.Data cache: Redis failed ({Error}); reads go to the database and Redis is tried again in {RetryInterval}")]
    private static partial void LogRedisFailed(ILogger logger, string error, TimeSpan retryInterval);
}
