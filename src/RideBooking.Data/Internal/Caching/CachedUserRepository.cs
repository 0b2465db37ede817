namespace RideBooking.Data.Internal;

/// <summary>
/// Serves user look-ups by id from the cache. A user never changes after creation, so nothing invalidates it; look-ups
/// that find nobody are not cached, and look-ups by phone always read the database (a key never holds a phone number).
/// </summary>
internal sealed class CachedUserRepository(IUserRepository inner, RideBookingCache cache) : IUserRepository
{
    public Task<User> CreateAsync(string name, string phone, CancellationToken ct = default) => inner.CreateAsync(name, phone, ct);

    public Task<User> CreateAsync(string name, string phone, string idempotencyKey, CancellationToken ct = default) => inner.CreateAsync(name, phone, idempotencyKey, ct);

    public Task<User?> GetAsync(long userId, CancellationToken ct = default)
    {
        Guard.Id(userId, nameof(userId));
        return cache.GetOrLoadAsync(CacheKeys.UserKind, CacheKeys.User(userId), (inner, userId), static (s, token) => s.inner.GetAsync(s.userId, token), ct).AsTask();
    }

    public Task<User?> GetByPhoneAsync(string phone, CancellationToken cancellationToken = default) => inner.GetByPhoneAsync(phone, cancellationToken);
}
