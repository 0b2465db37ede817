using RideBooking.Data;

namespace RideBooking.WebApi;

/// <summary>
/// The one place where the <c>Idempotency-Key</c> request header reaches the library: booking a ride and creating a user
/// or a driver accept it, and a repeat with the same key returns the first result.
/// </summary>
internal static class IdempotencyKey
{
    public const string HeaderName = "Idempotency-Key";

    /// <summary>The key of a request, or <see langword="null"/> when it sends none.</summary>
    /// <exception cref="ArgumentException">The header is sent more than once, or empty (answered with 422).</exception>
    public static string? From(HttpRequest request)
    {
        var values = request.Headers[HeaderName];
        if (values.Count == 0)
        {
            return null;
        }

        if (values.Count > 1)
        {
            throw new ArgumentException("Send one Idempotency-Key header, not several.");
        }

        var key = values[0];
        if (string.IsNullOrWhiteSpace(key))
        {
            throw new ArgumentException("The Idempotency-Key header must not be empty.");
        }

        return key;
    }

    public static Task<Ride> BookAsync(IRideBookingService booking, long userId, long driverId, decimal fare, string? key, CancellationToken ct) =>
        key is null ? booking.BookAsync(userId, driverId, fare, ct) : booking.BookAsync(userId, driverId, fare, key, ct);

    public static Task<User> CreateUserAsync(IUserRepository users, string name, string phone, string? key, CancellationToken ct) =>
        key is null ? users.CreateAsync(name, phone, ct) : users.CreateAsync(name, phone, key, ct);

    public static Task<Driver> CreateDriverAsync(IDriverRepository drivers, string name, string vehicleNumber, string? key, CancellationToken ct) =>
        key is null ? drivers.CreateAsync(name, vehicleNumber, ct) : drivers.CreateAsync(name, vehicleNumber, key, ct);
}
