namespace RideBooking.Data.Internal;

/// <summary>
/// Serves driver look-ups by id and the available-driver list from the cache. The list is cached once, as its first
/// <see cref="RideBookingCacheOptions.AvailableDriversCached"/> drivers, and every limit up to that is cut from it, so one
/// key holds the whole list and one removal invalidates it. The core removes both after every commit that changes a
/// driver (<see cref="ICacheInvalidation"/>); the booking decision never reads the cache.
/// </summary>
internal sealed class CachedDriverRepository(IDriverRepository inner, RideBookingCache cache) : IDriverRepository
{
    private readonly int _listSize = cache.Options.AvailableDriversCached;

    public Task<Driver> CreateAsync(string name, string vehicleNumber, CancellationToken ct = default) => inner.CreateAsync(name, vehicleNumber, ct);

    public Task<Driver> CreateAsync(string name, string vehicleNumber, string idempotencyKey, CancellationToken ct = default) => inner.CreateAsync(name, vehicleNumber, idempotencyKey, ct);

    public Task<Driver?> GetAsync(long driverId, CancellationToken ct = default)
    {
        Guard.Id(driverId, nameof(driverId));
        return cache.GetOrLoadAsync(CacheKeys.DriverKind, CacheKeys.Driver(driverId), (inner, driverId), static (s, token) => s.inner.GetAsync(s.driverId, token), ct).AsTask();
    }

    public async Task<IReadOnlyList<Driver>> GetAvailableAsync(int limit, CancellationToken ct = default)
    {
        Guard.Limit(limit, DriverRepository.MaxAvailableLimit, nameof(limit));
        if (limit > _listSize)
        {
            return await inner.GetAvailableAsync(limit, ct).ConfigureAwait(false);
        }

        var list = await cache.GetOrLoadAsync(
            CacheKeys.AvailableDriversKind,
            CacheKeys.AvailableDrivers,
            (inner, _listSize),
            static async (s, token) => (await s.inner.GetAvailableAsync(s._listSize, token).ConfigureAwait(false)).ToArray(),
            ct).ConfigureAwait(false);
        // A copy: the cached array itself is shared by every caller of this instance.
        return list is null ? [] : list[..Math.Min(limit, list.Length)];
    }
}
