using System.Diagnostics.Metrics;

namespace RideBooking.Data.Internal;

/// <summary>The library's own meter, "RideBooking.Data": bookings, conflicts and transaction retries.</summary>
internal sealed class RideBookingMetrics : IDisposable
{
    public const string MeterName = "RideBooking.Data";

    private readonly Meter _meter;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _bookings;
    private readonly Counter<long> _conflicts;

    public RideBookingMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _retries = _meter.CreateCounter<long>("ridebooking.transaction.retries", "{retry}", "Transactions run again after a deadlock, lock wait timeout or unknown commit outcome.");
        _bookings = _meter.CreateCounter<long>("ridebooking.bookings", "{booking}", "Rides booked.");
        _conflicts = _meter.CreateCounter<long>("ridebooking.conflicts", "{conflict}", "Operations refused by a business rule.");
    }

    public void Retry(string operation, string reason) =>
        _retries.Add(1, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("reason", reason));

    public void Booked() => _bookings.Add(1);

    public void Conflict(string operation, string kind) =>
        _conflicts.Add(1, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("kind", kind));

    public void Dispose() => _meter.Dispose();
}
