namespace RideBooking.Data;

/// <summary>
/// The names under which the library reports its telemetry, for hosts that subscribe to it
/// (for example OpenTelemetry's <c>AddMeter(RideBookingTelemetry.MeterName)</c> and
/// <c>AddSource(RideBookingTelemetry.ActivitySourceName)</c>).
/// </summary>
public static class RideBookingTelemetry
{
    /// <summary>The name of the library's <see cref="System.Diagnostics.Metrics.Meter"/>: "RideBooking.Data".</summary>
    public const string MeterName = "RideBooking.Data";

    /// <summary>The name of the library's <see cref="System.Diagnostics.ActivitySource"/>: "RideBooking.Data".</summary>
    public const string ActivitySourceName = "RideBooking.Data";
}
