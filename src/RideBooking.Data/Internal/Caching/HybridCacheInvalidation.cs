namespace RideBooking.Data.Internal;

/// <summary>The invalidation of the registered cache: removes the changed driver's key and the available-driver list's key.</summary>
internal sealed class HybridCacheInvalidation(RideBookingCache cache) : ICacheInvalidation
{
    private static readonly string[] AvailableList = [CacheKeys.AvailableDrivers];

    public ValueTask DriverChangedAsync(long driverId) => cache.RemoveAsync([CacheKeys.Driver(driverId), CacheKeys.AvailableDrivers]);

    public ValueTask DriverCreatedAsync() => cache.RemoveAsync(AvailableList);
}
