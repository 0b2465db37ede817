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
}
