namespace RideBooking.Data.Internal;

/// <summary>The instrumentation layer of <see cref="IRideBookingRecovery"/>: one span per pass, with the number of repairs.</summary>
internal sealed class InstrumentedRideBookingRecovery(IRideBookingRecovery inner, OperationTelemetry telemetry) : IRideBookingRecovery
{
    public Task<int> RunAsync(CancellationToken cancellationToken = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync(
                "RunRecovery",
                inner,
                static (s, t) => s.RunAsync(t),
                shardOf: null,
                cancellationToken,
                static (_, activity, _, repairs) => activity.SetTag("repairs", repairs))
            : inner.RunAsync(cancellationToken);
}
