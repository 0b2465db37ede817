namespace RideBooking.Data.Internal;

/// <summary>
/// The instrumentation layer of <see cref="IPaymentRepository"/>. A payment lives with its ride: the shard tag is the ride's
/// shard. The transaction id is never a tag.
/// </summary>
internal sealed class InstrumentedPaymentRepository(IPaymentRepository inner, OperationTelemetry telemetry) : IPaymentRepository
{
    public Task<PaymentResult> RecordAsync(long rideId, string transactionId, decimal amount, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync(
                "RecordPayment",
                (inner, rideId, transactionId, amount),
                static (s, t) => s.inner.RecordAsync(s.rideId, s.transactionId, s.amount, t),
                static (tm, s, _) => tm.ShardOf(s.rideId),
                ct,
                static (_, activity, _, result) => activity.SetTag("already_recorded", result.AlreadyRecorded))
            : inner.RecordAsync(rideId, transactionId, amount, ct);

    public Task<Payment> SetStatusAsync(string transactionId, PaymentStatus status, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("SetPaymentStatus", (inner, transactionId, status), static (s, t) => s.inner.SetStatusAsync(s.transactionId, s.status, t), static (tm, _, payment) => payment is null ? -1 : tm.ShardOf(payment.RideId), ct)
            : inner.SetStatusAsync(transactionId, status, ct);

    public Task<Payment?> GetByTransactionIdAsync(string transactionId, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("GetPaymentByTransactionId", (inner, transactionId), static (s, t) => s.inner.GetByTransactionIdAsync(s.transactionId, t), static (tm, _, payment) => payment is null ? -1 : tm.ShardOf(payment.RideId), ct)
            : inner.GetByTransactionIdAsync(transactionId, ct);

    public Task<Payment?> GetForRideAsync(long rideId, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("GetPaymentForRide", (inner, rideId), static (s, t) => s.inner.GetForRideAsync(s.rideId, t), static (tm, s, _) => tm.ShardOf(s.rideId), ct)
            : inner.GetForRideAsync(rideId, ct);
}
