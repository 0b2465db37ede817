namespace RideBooking.Data;

/// <summary>
/// Settings of the opt-in cache registered by
/// <see cref="RideBookingCacheServiceCollectionExtensions.AddRideBookingCache(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{RideBookingCacheOptions})"/>:
/// user and driver look-ups and the available-driver list, in memory (first level) and in Redis (second level).
/// </summary>
public sealed class RideBookingCacheOptions
{
    /// <summary>
    /// Gets or sets the StackExchange.Redis configuration string of the Redis server shared by the application's
    /// instances, for example <c>"redis.internal:6379,password=..."</c>. Required. The timeouts below override
    /// <c>connectTimeout</c>, <c>syncTimeout</c> and <c>asyncTimeout</c> given in it.
    /// </summary>
    public string? RedisConfiguration { get; set; }

    /// <summary>Gets or sets the prefix of every Redis key this cache writes, so several applications can share one Redis.</summary>
    /// <value>The default is <c>"ridebooking:"</c>.</value>
    public string KeyPrefix { get; set; } = "ridebooking:";

    /// <summary>
    /// Gets or sets how long an instance keeps a value in its own memory without asking Redis. Invalidation reaches
    /// the writing instance's memory and Redis at once, but not the memory of other instances (HybridCache has no
    /// backplane): this is the longest time another instance can serve a value that a write has changed.
    /// </summary>
    /// <value>The default is 5 seconds.</value>
    public TimeSpan LocalExpiration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long a value stays in Redis. Writes remove it before that; this bounds how long a value can
    /// survive an invalidation that never reached Redis (see <see cref="RedisRetryInterval"/>).
    /// </summary>
    /// <value>The default is 5 minutes.</value>
    public TimeSpan Expiration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets how many available drivers one cached list holds. <see cref="IDriverRepository.GetAvailableAsync"/>
    /// with a limit up to this is served from that list; a larger limit reads the database.
    /// </summary>
    /// <value>The default is 100.</value>
    public int AvailableDriversCached { get; set; } = 100;

    /// <summary>
    /// Gets or sets how long connecting to Redis may take before the cache gives up and reads the database instead.
    /// Kept short so that an unreachable Redis does not hold up a request.
    /// </summary>
    /// <value>The default is 1 second.</value>
    public TimeSpan RedisConnectTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how long one Redis command may take before it counts as failed and the database is read instead.</summary>
    /// <value>The default is 500 milliseconds.</value>
    public TimeSpan RedisOperationTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Gets or sets how long the cache leaves Redis alone after a Redis failure: meanwhile every operation goes to the
    /// database at once (counted in <c>ridebooking.cache.fallbacks</c>) instead of waiting for a timeout again.
    /// Removals that failed are sent again, before anything else, once Redis answers.
    /// </summary>
    /// <value>The default is 5 seconds.</value>
    public TimeSpan RedisRetryInterval { get; set; } = TimeSpan.FromSeconds(5);
}
