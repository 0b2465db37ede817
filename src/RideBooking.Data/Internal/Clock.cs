namespace RideBooking.Data.Internal;

internal static class Clock
{
    /// <summary>UTC now, truncated to the microsecond precision of DATETIME(6), so what is returned equals what is stored.</summary>
    public static DateTime UtcNow(this TimeProvider time)
    {
        var ticks = time.GetUtcNow().UtcTicks;
        return new DateTime(ticks - (ticks % 10), DateTimeKind.Utc);
    }
}
