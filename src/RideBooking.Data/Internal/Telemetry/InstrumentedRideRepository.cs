namespace RideBooking.Data.Internal;

/// <summary>The instrumentation layer of <see cref="IRideRepository"/>.</summary>
internal sealed class InstrumentedRideRepository(IRideRepository inner, OperationTelemetry telemetry) : IRideRepository
{
    public Task<Ride?> GetAsync(long rideId, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("GetRide", (inner, rideId), static (s, t) => s.inner.GetAsync(s.rideId, t), static (tm, s, _) => tm.ShardOf(s.rideId), ct)
            : inner.GetAsync(rideId, ct);

    public Task<IReadOnlyList<Ride>> GetLatestForUserAsync(long userId, int limit, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("GetLatestRidesForUser", (inner, userId, limit), static (s, t) => s.inner.GetLatestForUserAsync(s.userId, s.limit, t), static (tm, s, _) => tm.ShardOf(s.userId), ct)
            : inner.GetLatestForUserAsync(userId, limit, ct);

    // Fanned out to every shard: no shard tag.
    public Task<IReadOnlyList<DriverEarnings>> GetDriverEarningsAsync(CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("GetDriverEarnings", inner, static (s, t) => s.GetDriverEarningsAsync(t), shardOf: null, ct)
            : inner.GetDriverEarningsAsync(ct);

    public Task<IReadOnlyList<RankedDriver>> GetTopDriversAsync(int top, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("GetTopDrivers", (inner, top), static (s, t) => s.inner.GetTopDriversAsync(s.top, t), shardOf: null, ct)
            : inner.GetTopDriversAsync(top, ct);

    public Task<Ride?> GetCurrentForUserAsync(long userId, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("GetCurrentRideForUser", (inner, userId), static (s, t) => s.inner.GetCurrentForUserAsync(s.userId, t), static (tm, s, _) => tm.ShardOf(s.userId), ct)
            : inner.GetCurrentForUserAsync(userId, ct);

    // Read on the driver's shard (a ride booked across shards is then read on its user's shard): the driver's shard is the tag.
    public Task<Ride?> GetCurrentForDriverAsync(long driverId, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("GetCurrentRideForDriver", (inner, driverId), static (s, t) => s.inner.GetCurrentForDriverAsync(s.driverId, t), static (tm, s, _) => tm.ShardOf(s.driverId), ct)
            : inner.GetCurrentForDriverAsync(driverId, ct);

    // The cursor is opaque and never a tag.
    public Task<RidePage> GetPageForUserAsync(long userId, int limit, string? cursor = null, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("GetRidePageForUser", (inner, userId, limit, cursor), static (s, t) => s.inner.GetPageForUserAsync(s.userId, s.limit, s.cursor, t), static (tm, s, _) => tm.ShardOf(s.userId), ct)
            : inner.GetPageForUserAsync(userId, limit, cursor, ct);
}
