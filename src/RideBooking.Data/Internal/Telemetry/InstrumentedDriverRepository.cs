namespace RideBooking.Data.Internal;

/// <summary>The instrumentation layer of <see cref="IDriverRepository"/>.</summary>
internal sealed class InstrumentedDriverRepository(IDriverRepository inner, OperationTelemetry telemetry) : IDriverRepository
{
    public Task<Driver> CreateAsync(string name, string vehicleNumber, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("CreateDriver", (inner, name, vehicleNumber), static (s, t) => s.inner.CreateAsync(s.name, s.vehicleNumber, t), static (tm, _, driver) => driver is null ? -1 : tm.ShardOf(driver.Id), ct)
            : inner.CreateAsync(name, vehicleNumber, ct);

    // The caller's key is never a tag.
    public Task<Driver> CreateAsync(string name, string vehicleNumber, string idempotencyKey, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("CreateDriver", (inner, name, vehicleNumber, idempotencyKey), static (s, t) => s.inner.CreateAsync(s.name, s.vehicleNumber, s.idempotencyKey, t), static (tm, _, driver) => driver is null ? -1 : tm.ShardOf(driver.Id), ct)
            : inner.CreateAsync(name, vehicleNumber, idempotencyKey, ct);

    public Task<Driver?> GetAsync(long driverId, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("GetDriver", (inner, driverId), static (s, t) => s.inner.GetAsync(s.driverId, t), static (tm, s, _) => tm.ShardOf(s.driverId), ct)
            : inner.GetAsync(driverId, ct);

    // Fanned out to every shard: no shard tag.
    public Task<IReadOnlyList<Driver>> GetAvailableAsync(int limit, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("GetAvailableDrivers", (inner, limit), static (s, t) => s.inner.GetAvailableAsync(s.limit, t), shardOf: null, ct)
            : inner.GetAvailableAsync(limit, ct);
}
