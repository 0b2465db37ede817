namespace RideBooking.Data;

/// <summary>Records payments for completed rides, idempotently by the provider's transaction id.</summary>
public interface IPaymentRepository
{
    /// <summary>
    /// Records a <see cref="PaymentStatus.Pending"/> payment for a completed ride. Safe to call again
    /// with the same arguments: a replay returns the stored payment with
    /// <see cref="PaymentResult.AlreadyRecorded"/> set and stores nothing new.
    /// </summary>
    /// <param name="rideId">The completed ride being paid.</param>
    /// <param name="transactionId">The provider's transaction id: 1 to 100 characters, no leading or trailing white space.</param>
    /// <param name="amount">The amount: 0 to 99,999,999.99 with at most two decimals.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The stored payment and whether it had been recorded before.</returns>
    /// <exception cref="ArgumentException">A malformed transaction id or amount.</exception>
    /// <exception cref="EntityNotFoundException">The ride does not exist.</exception>
    /// <exception cref="InvalidRideStateException">The ride is not completed.</exception>
    /// <exception cref="PaymentConflictException">
    /// The transaction id is stored with another ride or amount, or the ride already has a pending or succeeded payment under another
    /// transaction id (a ride whose earlier attempts all failed can be paid again under a new transaction id).
    /// </exception>
    Task<PaymentResult> RecordAsync(long rideId, string transactionId, decimal amount, CancellationToken ct = default);

    /// <summary>
    /// Settles a pending payment as <see cref="PaymentStatus.Succeeded"/> or <see cref="PaymentStatus.Failed"/>.
    /// Setting the status the payment already has is a no-op.
    /// </summary>
    /// <param name="transactionId">The provider's transaction id.</param>
    /// <param name="status"><see cref="PaymentStatus.Succeeded"/> or <see cref="PaymentStatus.Failed"/>.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The stored payment after the change.</returns>
    /// <exception cref="ArgumentException">A malformed transaction id, or a status other than Succeeded or Failed.</exception>
    /// <exception cref="EntityNotFoundException">No payment has this transaction id.</exception>
    /// <exception cref="PaymentConflictException">The payment already has the other final status.</exception>
    Task<Payment> SetStatusAsync(string transactionId, PaymentStatus status, CancellationToken ct = default);

    /// <summary>Reads a payment by the provider's transaction id.</summary>
    /// <param name="transactionId">The provider's transaction id.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The payment, or <see langword="null"/> when there is none.</returns>
    /// <exception cref="ArgumentException">A malformed transaction id.</exception>
    Task<Payment?> GetByTransactionIdAsync(string transactionId, CancellationToken ct = default);

    /// <summary>
    /// Reads the payment of a ride: the pending or succeeded payment when there is one, otherwise the latest failed
    /// attempt.
    /// </summary>
    /// <remarks>One read on the ride's shard, by the ride id index of <c>payments</c>.</remarks>
    /// <param name="rideId">The ride's id.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The payment, or <see langword="null"/> when the ride has none (or does not exist).</returns>
    Task<Payment?> GetForRideAsync(long rideId, CancellationToken ct = default);
}
