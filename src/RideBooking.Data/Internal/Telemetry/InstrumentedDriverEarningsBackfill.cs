namespace RideBooking.Data.Internal;

/// <summary>The instrumentation layer of <see cref="IDriverEarningsBackfill"/>: it walks every shard, so no shard tag.</summary>
internal sealed class InstrumentedDriverEarningsBackfill(IDriverEarningsBackfill inner, OperationTelemetry telemetry) : IDriverEarningsBackfill
{
    public Task<EarningsBackfillResult> RebuildAsync(int driversPerBatch = 500, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync(
                "RebuildDriverEarnings",
                (inner, driversPerBatch),
                static (s, t) => s.inner.RebuildAsync(s.driversPerBatch, t),
                shardOf: null,
                ct,
                static (_, activity, _, result) => activity.SetTag("batches", result.Batches))
            : inner.RebuildAsync(driversPerBatch, ct);
}
