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

    // MERGE: once the caller idempotency-key overloads (faults branch) are in, each method below passes a non-null key
    // to its overload, e.g. `key is null ? booking.BookAsync(userId, driverId, fare, ct)
    // : booking.BookAsync(userId, driverId, fare, key, ct)`. Until then the key is validated and not yet used.
    public static Task<Ride> BookAsync(IRideBookingService booking, long userId, long driverId, decimal fare, string? key, CancellationToken ct)
    {
        _ = key;
        return booking.BookAsync(userId, driverId, fare, ct);
    }

    public static Task<User> CreateUserAsync(IUserRepository users, string name, string phone, string? key, CancellationToken ct)
    {
        _ = key;
        return users.CreateAsync(name, phone, ct);
    }

    public static Task<Driver> CreateDriverAsync(IDriverRepository drivers, string name, string vehicleNumber, string? key, CancellationToken ct)
    {
        _ = key;
        return drivers.CreateAsync(name, vehicleNumber, ct);
    }
}
