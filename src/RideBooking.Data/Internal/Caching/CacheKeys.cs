using System.Globalization;

namespace RideBooking.Data.Internal;

/// <summary>
/// The cache's keys (Redis adds <see cref="RideBookingCacheOptions.KeyPrefix"/>). Ids only: no personal data in a key.
/// The available-driver list is one key for every limit up to <see cref="RideBookingCacheOptions.AvailableDriversCached"/>,
/// so that removing that one key invalidates the whole list on every instance.
/// </summary>
internal static class CacheKeys
{
    public const string UserKind = "user";
    public const string DriverKind = "driver";
    public const string AvailableDriversKind = "available_drivers";

    public const string AvailableDrivers = "drivers:available";

    public static string User(long userId) => "user:" + userId.ToString(CultureInfo.InvariantCulture);

    public static string Driver(long driverId) => "driver:" + driverId.ToString(CultureInfo.InvariantCulture);

    /// <summary>The entity kind a key (without the prefix) belongs to, as a fixed string for metric tags.</summary>
    public static string KindOf(string key) =>
        key.StartsWith("user:", StringComparison.Ordinal) ? UserKind
        : key.StartsWith("driver:", StringComparison.Ordinal) ? DriverKind
        : key.StartsWith(AvailableDrivers, StringComparison.Ordinal) ? AvailableDriversKind
        : "other";
}
