namespace RideBooking.Data.Internal;

/// <summary>
/// The instrumentation layer of <see cref="IRideBookingService"/>. A ride lives with its user: the shard tag is the user's
/// (the ride's) shard; a booking's span also carries the driver's shard.
/// </summary>
internal sealed class InstrumentedRideBookingService(IRideBookingService inner, OperationTelemetry telemetry) : IRideBookingService
{
    public Task<Ride> BookAsync(long userId, long driverId, decimal fare, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync(
                "BookRide",
                (inner, userId, driverId, fare),
                static (s, t) => s.inner.BookAsync(s.userId, s.driverId, s.fare, t),
                static (tm, s, _) => tm.ShardOf(s.userId),
                ct,
                static (tm, activity, s, _) =>
                {
                    if (tm.ShardOf(s.driverId) is var driverShard and >= 0)
                    {
                        activity.SetTag("driver_shard", driverShard);
                    }
                })
            : inner.BookAsync(userId, driverId, fare, ct);

    // The caller's key is never a tag.
    public Task<Ride> BookAsync(long userId, long driverId, decimal fare, string idempotencyKey, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync(
                "BookRide",
                (inner, userId, driverId, fare, idempotencyKey),
                static (s, t) => s.inner.BookAsync(s.userId, s.driverId, s.fare, s.idempotencyKey, t),
                static (tm, s, _) => tm.ShardOf(s.userId),
                ct,
                static (tm, activity, s, _) =>
                {
                    if (tm.ShardOf(s.driverId) is var driverShard and >= 0)
                    {
                        activity.SetTag("driver_shard", driverShard);
                    }
                })
            : inner.BookAsync(userId, driverId, fare, idempotencyKey, ct);

    public Task<Ride> AcceptAsync(long rideId, long driverId, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("AcceptRide", (inner, rideId, driverId), static (s, t) => s.inner.AcceptAsync(s.rideId, s.driverId, t), static (tm, s, _) => tm.ShardOf(s.rideId), ct)
            : inner.AcceptAsync(rideId, driverId, ct);

    public Task<Ride> CompleteAsync(long rideId, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("CompleteRide", (inner, rideId), static (s, t) => s.inner.CompleteAsync(s.rideId, t), static (tm, s, _) => tm.ShardOf(s.rideId), ct)
            : inner.CompleteAsync(rideId, ct);

    public Task<Ride> CancelAsync(long rideId, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("CancelRide", (inner, rideId), static (s, t) => s.inner.CancelAsync(s.rideId, t), static (tm, s, _) => tm.ShardOf(s.rideId), ct)
            : inner.CancelAsync(rideId, ct);
}
