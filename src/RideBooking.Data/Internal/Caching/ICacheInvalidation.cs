namespace RideBooking.Data.Internal;

/// <summary>
/// What the core calls after a commit that changes a cached value. A no-op unless the cache is registered; never
/// throws (a cache that cannot be told counts a fallback and lets the value expire).
/// </summary>
internal interface ICacheInvalidation
{
    /// <summary>A driver's row changed (its availability): its look-up and the available-driver list are stale.</summary>
    ValueTask DriverChangedAsync(long driverId);

    /// <summary>A driver was created (available): the available-driver list is stale.</summary>
    ValueTask DriverCreatedAsync();
}

/// <summary>The invalidation when no cache is registered.</summary>
internal sealed class NoCacheInvalidation : ICacheInvalidation
{
    public static NoCacheInvalidation Instance { get; } = new();

    public ValueTask DriverChangedAsync(long driverId) => default;

    public ValueTask DriverCreatedAsync() => default;
}
