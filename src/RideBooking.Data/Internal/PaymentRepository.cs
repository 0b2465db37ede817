using MySqlConnector;

namespace RideBooking.Data.Internal;

internal sealed class PaymentRepository(RideBookingDataSource dataSource, TransactionRunner runner, IdGenerator ids, TimeProvider time, RideBookingMetrics metrics) : IPaymentRepository
{
    private const string PaymentColumns = "id AS Id, ride_id AS RideId, transaction_id AS TransactionId, amount AS Amount, status AS Status, created_at AS CreatedAt";

    internal const string PaymentByTransactionId = $"SELECT {PaymentColumns} FROM payments WHERE transaction_id = @TransactionId";

    /// <summary>
    /// One round trip, one write statement. The insert happens only for a completed ride; a duplicate
    /// transaction id (or a ride already paid) turns it into a no-op update. What is stored afterwards,
    /// compared with what was asked, decides the outcome, so the affected-row count is never read.
    /// </summary>
    private const string RecordPayment = $"""
        INSERT INTO payments (id, ride_id, transaction_id, amount, status, created_at, updated_at)
        SELECT @Id, r.id, @TransactionId, @Amount, 'PENDING', @Now, @Now
        FROM rides r WHERE r.id = @RideId AND r.status = 'COMPLETED'
        ON DUPLICATE KEY UPDATE payments.id = payments.id;
        {PaymentByTransactionId};
        SELECT status FROM rides WHERE id = @RideId;
        """;

    /// <summary>Only a pending payment changes; what is stored afterwards decides the outcome.</summary>
    private const string SettlePayment = $"""
        UPDATE payments SET status = @Status, updated_at = @Now WHERE transaction_id = @TransactionId AND status = 'PENDING';
        {PaymentByTransactionId};
        """;

    public async Task<PaymentResult> RecordAsync(long rideId, string transactionId, decimal amount, CancellationToken ct = default)
    {
        Guard.Id(rideId, nameof(rideId));
        Guard.TransactionId(transactionId, nameof(transactionId));
        Guard.Money(amount, nameof(amount));
        var id = ids.Next();
        var now = time.UtcNow();

        // Replaying this unit is always safe: the transaction id is the idempotency key.
        return await runner.RunAsync("RecordPayment", transactional: false, async (unit, token) =>
        {
            var (stored, rideStatus) = await RecordAndReadBackAsync(unit.CreateCommand(RecordPayment)
                .With("@Id", id).With("@RideId", rideId).With("@TransactionId", transactionId).With("@Amount", amount).With("@Now", now), token).ConfigureAwait(false);

            if (stored is not null && stored.Id == id)
            {
                return new PaymentResult(stored, AlreadyRecorded: false);
            }

            if (rideStatus is null)
            {
                metrics.Conflict("RecordPayment", "not_found");
                throw new EntityNotFoundException($"Ride {rideId} does not exist.");
            }

            if (!string.Equals(rideStatus, "COMPLETED", StringComparison.OrdinalIgnoreCase))
            {
                metrics.Conflict("RecordPayment", "invalid_state");
                throw new InvalidRideStateException($"Ride {rideId} is {rideStatus.ToLowerInvariant()}; only a completed ride can be paid.");
            }

            if (stored is null)
            {
                metrics.Conflict("RecordPayment", "ride_already_paid");
                throw new PaymentConflictException($"Ride {rideId} is already paid under another transaction id.");
            }

            if (stored.RideId != rideId || stored.Amount != amount)
            {
                metrics.Conflict("RecordPayment", "transaction_mismatch");
                throw new PaymentConflictException("This transaction id is already recorded for another ride or amount.");
            }

            return new PaymentResult(stored, AlreadyRecorded: true);
        }, ct).ConfigureAwait(false);
    }

    public async Task<Payment> SetStatusAsync(string transactionId, PaymentStatus status, CancellationToken ct = default)
    {
        Guard.TransactionId(transactionId, nameof(transactionId));
        if (status is not (PaymentStatus.Succeeded or PaymentStatus.Failed))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "A payment can only be settled as Succeeded or Failed.");
        }

        var now = time.UtcNow();
        return await runner.RunAsync("SetPaymentStatus", transactional: false, async (unit, token) =>
        {
            var stored = await unit.CreateCommand(SettlePayment)
                .With("@TransactionId", transactionId).With("@Status", status == PaymentStatus.Succeeded ? "SUCCEEDED" : "FAILED").With("@Now", now)
                .ReadSingleOrDefaultAsync(Rows.Payment, token).ConfigureAwait(false)
                ?? throw new EntityNotFoundException("No payment has this transaction id.");

            if (stored.Status != status)
            {
                metrics.Conflict("SetPaymentStatus", "final_status");
                throw new PaymentConflictException($"The payment is already {stored.Status}; a final status cannot change.");
            }

            return stored;
        }, ct).ConfigureAwait(false);
    }

    public async Task<Payment?> GetByTransactionIdAsync(string transactionId, CancellationToken ct = default)
    {
        Guard.TransactionId(transactionId, nameof(transactionId));
        var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        return await new MySqlCommand(PaymentByTransactionId, connection).With("@TransactionId", transactionId).ReadSingleOrDefaultAsync(Rows.Payment, ct).ConfigureAwait(false);
    }

    /// <summary>Runs <see cref="RecordPayment"/>: the payment stored under the transaction id, then the ride's status.</summary>
    private static async Task<(Payment? Stored, string? RideStatus)> RecordAndReadBackAsync(MySqlCommand command, CancellationToken ct)
    {
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var stored = await reader.ReadAsync(ct).ConfigureAwait(false) ? Rows.Payment(reader) : null;
                await reader.NextResultAsync(ct).ConfigureAwait(false);
                var rideStatus = await reader.ReadAsync(ct).ConfigureAwait(false) ? reader.GetString(0) : null;
                return (stored, rideStatus);
            }
        }
    }
}
