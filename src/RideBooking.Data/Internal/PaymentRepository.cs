using MySqlConnector;

namespace RideBooking.Data.Internal;

internal sealed class PaymentRepository(ShardReader reader, ShardResolver shards, TransactionRunner runner, IdGenerator ids, TimeProvider time, RideBookingMetrics metrics) : IPaymentRepository
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

    /// <summary>For a completed ride whose payment insert changed nothing and found no payment under its transaction id: is the ride paid at all.</summary>
    private const string RideHasPayment = "SELECT EXISTS (SELECT 1 FROM payments WHERE ride_id = @RideId)";

    private const string PaymentExists = "SELECT EXISTS (SELECT 1 FROM payments WHERE transaction_id = @TransactionId)";

    private static readonly Func<MySqlDataReader, CancellationToken, Task<Payment?>> ReadPayment = static (r, ct) => r.ReadSingleOrDefaultAsync(Rows.Payment, ct);
    private static readonly Func<MySqlDataReader, CancellationToken, Task<bool>> ReadExists = static async (r, ct) => await r.ReadAsync(ct).ConfigureAwait(false) && r.GetInt64(0) == 1;

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
        // A payment lives with its ride (on the ride's user's shard) and carries the same logical shard.
        var logicalShard = shards.LogicalShardOf(rideId);
        var id = ids.Next(logicalShard);
        var now = time.UtcNow();

        // Replaying this unit is always safe: the transaction id is the idempotency key.
        return await runner.RunAsync("RecordPayment", shards.PhysicalShardOfLogical(logicalShard), transactional: false, async (unit, token) =>
        {
            var (stored, rideStatus) = await RecordAndReadBackAsync(unit, unit.MarkWrite(unit.CreateCommand(RecordPayment)
                .With("@Id", id).With("@RideId", rideId).With("@TransactionId", transactionId).With("@Amount", amount).With("@Now", now)), token).ConfigureAwait(false);

            while (stored is null && string.Equals(rideStatus, "COMPLETED", StringComparison.OrdinalIgnoreCase)
                && await unit.CreateCommand(RideHasPayment).With("@RideId", rideId).ReadInt64Async(token).ConfigureAwait(false) == 0)
            {
                // Nothing stored under this transaction id and the ride is unpaid: the insert met another process's
                // row with the same generated id (ON DUPLICATE KEY left that row alone). Try again with a new id.
                metrics.IdCollision("RecordPayment");
                id = ids.Next(logicalShard);
                (stored, rideStatus) = await RecordAndReadBackAsync(unit, unit.MarkWrite(unit.CreateCommand(RecordPayment)
                    .With("@Id", id).With("@RideId", rideId).With("@TransactionId", transactionId).With("@Amount", amount).With("@Now", now)), token).ConfigureAwait(false);
            }

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
        var shard = await FindShardAsync(transactionId, ct).ConfigureAwait(false);
        return await runner.RunAsync("SetPaymentStatus", shard, transactional: false, async (unit, token) =>
        {
            var command = unit.MarkWrite(unit.CreateCommand(SettlePayment)
                .With("@TransactionId", transactionId).With("@Status", status == PaymentStatus.Succeeded ? "SUCCEEDED" : "FAILED").With("@Now", now));
            Payment? stored;
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    stored = await reader.ReadSingleOrDefaultAsync(Rows.Payment, token).ConfigureAwait(false);
                    await unit.CaptureWriteMarkAsync(reader, token).ConfigureAwait(false);
                }
            }

            if (stored is null)
            {
                throw new EntityNotFoundException("No payment has this transaction id.");
            }

            if (stored.Status != status)
            {
                metrics.Conflict("SetPaymentStatus", "final_status");
                throw new PaymentConflictException($"The payment is already {stored.Status}; a final status cannot change.");
            }

            return stored;
        }, ct).ConfigureAwait(false);
    }

    /// <summary>A payment found by transaction id alone: on every shard's replicas (or primaries), in parallel, when sharded.</summary>
    public async Task<Payment?> GetByTransactionIdAsync(string transactionId, CancellationToken ct = default)
    {
        Guard.TransactionId(transactionId, nameof(transactionId));
        var perShard = await reader.FanOutAsync("GetPaymentByTransactionId", () => new MySqlCommand(PaymentByTransactionId).With("@TransactionId", transactionId), ReadPayment, ct).ConfigureAwait(false);
        return perShard.FirstOrDefault(payment => payment is not null);
    }

    /// <summary>
    /// The physical shard that holds the payment of a transaction id. A transaction id carries no shard, so with several
    /// shards every primary is asked (in parallel, on the primaries so that a payment recorded a moment ago elsewhere is found).
    /// </summary>
    private async Task<int> FindShardAsync(string transactionId, CancellationToken ct)
    {
        if (shards.PhysicalShardCount == 1)
        {
            return 0;
        }

        var found = await reader.FanOutAsync("FindPayment", () => new MySqlCommand(PaymentExists).With("@TransactionId", transactionId), ReadExists, ct, primaryOnly: true).ConfigureAwait(false);
        var first = Array.IndexOf(found, true);
        return first < 0 ? 0 : first;
    }

    /// <summary>Runs <see cref="RecordPayment"/>: the payment stored under the transaction id, then the ride's status.</summary>
    private static async Task<(Payment? Stored, string? RideStatus)> RecordAndReadBackAsync(UnitOfWork unit, MySqlCommand command, CancellationToken ct)
    {
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var stored = await reader.ReadAsync(ct).ConfigureAwait(false) ? Rows.Payment(reader) : null;
                await reader.NextResultAsync(ct).ConfigureAwait(false);
                var rideStatus = await reader.ReadAsync(ct).ConfigureAwait(false) ? reader.GetString(0) : null;
                await unit.CaptureWriteMarkAsync(reader, ct).ConfigureAwait(false);
                return (stored, rideStatus);
            }
        }
    }
}
