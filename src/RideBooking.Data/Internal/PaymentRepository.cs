using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>
/// A payment lives with its ride; its provider transaction id is unique over all shards through its claim in
/// <c>transaction_claims</c> on the id's home shard (<see cref="KeyHome.OfTransactionId"/>), which also finds the payment
/// from the transaction id alone. Same protocol as <see cref="UserRepository"/>.
/// </summary>
internal sealed class PaymentRepository(ShardReader reader, ShardResolver shards, TransactionRunner runner, IdGenerator ids, TimeProvider time, RideBookingMetrics metrics, KeyClaims claims) : IPaymentRepository
{
    internal const string PaymentColumns = "id AS Id, ride_id AS RideId, transaction_id AS TransactionId, amount AS Amount, status AS Status, created_at AS CreatedAt";

    internal const string PaymentByTransactionId = $"SELECT {PaymentColumns} FROM payments WHERE transaction_id = @TransactionId";

    /// <summary>
    /// The payment's insert happens only for a completed ride; a duplicate transaction id (or a ride already paid) turns it
    /// into a no-op update. What is stored afterwards, compared with what was asked, decides the outcome, so the
    /// affected-row count is never read.
    /// </summary>
    private const string InsertPayment = """
        INSERT INTO payments (id, ride_id, transaction_id, amount, status, created_at, updated_at)
        SELECT @Id, r.id, @TransactionId, @Amount, 'PENDING', @Now, @Now
        FROM rides r WHERE r.id = @RideId AND r.status = 'COMPLETED'
        ON DUPLICATE KEY UPDATE payments.id = payments.id
        """;

    /// <summary>
    /// Claim and payment on the same shard: the claim is inserted (confirmed) only with a payment this call just wrote;
    /// a claim already held by another payment fails the batch before its COMMIT.
    /// </summary>
    private const string RecordPaymentLocal = $"""
        {InsertPayment};
        INSERT INTO transaction_claims (transaction_id, payment_id, ride_id, amount, claimed_at, confirmed, logical_shard)
        SELECT transaction_id, id, ride_id, amount, created_at, TRUE, @Home FROM payments WHERE id = @Id AND transaction_id = @TransactionId;
        {PaymentByTransactionId};
        SELECT status FROM rides WHERE id = @RideId;
        """;

    /// <summary>
    /// The payment on the ride's shard with its COMMITTED decision (only for a payment this call just wrote): the decision
    /// fails the batch before its COMMIT when the recovery pass has aborted the payment id.
    /// </summary>
    private const string RecordPaymentCrossShard = $"""
        {InsertPayment};
        INSERT INTO cross_shard_decisions (id, outcome, decided_at)
        SELECT id, 'COMMITTED', created_at FROM payments WHERE id = @Id AND created_at = @Now;
        {PaymentByTransactionId};
        SELECT status FROM rides WHERE id = @RideId;
        """;

    /// <summary>The claim of a cross-shard payment, then the claim that holds: this call's, or an earlier one's.</summary>
    private const string ClaimTransaction = """
        INSERT INTO transaction_claims (transaction_id, payment_id, ride_id, amount, claimed_at, confirmed, logical_shard)
        VALUES (@TransactionId, @Id, @RideId, @Amount, @Now, FALSE, @Home)
        ON DUPLICATE KEY UPDATE transaction_claims.payment_id = transaction_claims.payment_id;
        SELECT payment_id, ride_id, amount FROM transaction_claims WHERE transaction_id = @TransactionId
        """;

    /// <summary>
    /// The payment of a ride: a pending or succeeded one first (there is at most one), otherwise the latest failed
    /// attempt. Reads the ride's entries of ix_payments_ride only.
    /// </summary>
    internal const string PaymentForRide = $"""
        SELECT {PaymentColumns} FROM payments WHERE ride_id = @RideId
        ORDER BY status = 'FAILED', created_at DESC, id DESC
        LIMIT 1
        """;

    private const string ClaimedPaymentId = "SELECT payment_id FROM transaction_claims WHERE transaction_id = @TransactionId";

    /// <summary>For a completed ride whose payment insert changed nothing and found no payment under its transaction id: is the ride paid at all.</summary>
    // A ride is unpaid while no payment of it is PENDING or SUCCEEDED (failed attempts do not count; see 009).
    private const string RideHasPayment = "SELECT EXISTS (SELECT 1 FROM payments WHERE active_ride_id = @RideId)";

    private static readonly Func<MySqlDataReader, CancellationToken, Task<Payment?>> ReadPayment = static (r, ct) => r.ReadSingleOrDefaultAsync(Rows.Payment, ct);
    private static readonly Func<MySqlDataReader, CancellationToken, Task<long>> ReadId =
        static async (r, ct) => await r.ReadAsync(ct).ConfigureAwait(false) ? r.GetInt64(0) : 0;

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
        // A payment lives with its ride (on the ride's user's shard) and carries the same logical shard; the transaction
        // id's claim lives on the id's home shard.
        var logicalShard = shards.LogicalShardOf(rideId);
        var rideShard = shards.PhysicalShardOfLogical(logicalShard);
        var home = KeyHome.OfTransactionId(transactionId);
        var homeShard = shards.PhysicalShardOfLogical(home);
        while (true)
        {
            var id = ids.Next(logicalShard);
            var now = time.UtcNow();
            var (result, retry) = rideShard == homeShard
                ? await RecordLocalAsync(rideShard, id, rideId, transactionId, amount, now, home, ct).ConfigureAwait(false)
                : await RecordCrossShardAsync(rideShard, homeShard, id, rideId, transactionId, amount, now, home, ct).ConfigureAwait(false);
            if (!retry)
            {
                return result!;
            }

            // Nothing stored under this transaction id and the ride is unpaid: the insert met another process's row with
            // the same generated id (ON DUPLICATE KEY left that row alone). Try again with a new id.
            metrics.IdCollision("RecordPayment");
        }
    }

    /// <summary>The payment and its claim in one local transaction, one round trip (reads and COMMIT in the same batch).</summary>
    private async Task<(PaymentResult? Result, bool Retry)> RecordLocalAsync(int shard, long id, long rideId, string transactionId, decimal amount, DateTime now, int home, CancellationToken ct)
    {
        var (stored, rideStatus, collision) = await runner.RunAsync("RecordPayment", shard, transactional: true, async (unit, token) =>
        {
            if (unit.AfterUnknownCommit && await unit.CreateCommand(PaymentByTransactionId).With("@TransactionId", transactionId).ReadSingleOrDefaultAsync(Rows.Payment, token).ConfigureAwait(false) is { } mine && mine.Id == id)
            {
                return (mine, "COMPLETED", false);
            }

            Payment? stored;
            string? rideStatus;
            try
            {
                var results = await unit.ExecuteReaderAndCommitAsync(unit.CreateCommand(RecordPaymentLocal)
                    .With("@Id", id).With("@RideId", rideId).With("@TransactionId", transactionId).With("@Amount", amount).With("@Now", now).With("@Home", home), token).ConfigureAwait(false);
                await using (results.ConfigureAwait(false))
                {
                    (stored, rideStatus) = await ReadBackAsync(unit, results, token).ConfigureAwait(false);
                }
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
            {
                // Only the claim's insert can fail so: a payment on another shard holds this transaction id.
                await unit.RollBackThenReadInt64Async(unit.CreateCommand("SELECT 0"), token).ConfigureAwait(false);
                metrics.Conflict("RecordPayment", "transaction_mismatch");
                throw new PaymentConflictException("This transaction id is already recorded for another ride or amount.", ex) { Conflict = RideBookingConflict.TransactionIdMismatch };
            }

            return (stored, rideStatus, stored is null && IsCompleted(rideStatus) && await IsUnpaidAsync(unit, rideId, token).ConfigureAwait(false));
        }, ct).ConfigureAwait(false);
        return collision ? (null, true) : (Classify(stored, rideStatus, id, rideId, amount, adopted: false), false);
    }

    /// <summary>
    /// Claim on the home shard (autocommit), then the payment with its COMMITTED decision on the ride's shard (one local
    /// transaction). A call that finds the claim of an earlier call with the same ride and amount takes its payment id
    /// over and completes it (a replay): its result is <see cref="PaymentResult.AlreadyRecorded"/>.
    /// </summary>
    private async Task<(PaymentResult? Result, bool Retry)> RecordCrossShardAsync(int rideShard, int homeShard, long id, long rideId, string transactionId, decimal amount, DateTime now, int home, CancellationToken ct)
    {
        var claim = await runner.RunAsync("ClaimTransaction", homeShard, transactional: false, (unit, token) =>
            unit.WriteThenReadFirstRowAsync(
                unit.CreateCommand(ClaimTransaction)
                    .With("@TransactionId", transactionId).With("@Id", id).With("@RideId", rideId).With("@Amount", amount).With("@Now", now).With("@Home", home),
                static reader => (PaymentId: reader.GetInt64(0), RideId: reader.GetInt64(1), Amount: reader.GetDecimal(2)),
                default,
                token), ct).ConfigureAwait(false);

        var adopted = claim.PaymentId != id;
        if (adopted)
        {
            if (claim.PaymentId == 0)
            {
                // The recovery pass deleted the claim between the two statements: claim again.
                return (null, true);
            }

            if (claim.RideId != rideId || claim.Amount != amount)
            {
                metrics.Conflict("RecordPayment", "transaction_mismatch");
                throw new PaymentConflictException("This transaction id is already recorded for another ride or amount.") { Conflict = RideBookingConflict.TransactionIdMismatch };
            }

            id = claim.PaymentId;
        }
        else
        {
            await claims.StepAsync("RecordPayment:claimed").ConfigureAwait(false);
        }

        (Payment? Stored, string? RideStatus, bool Fenced, bool Collision) row;
        try
        {
            row = await runner.RunAsync("RecordPayment", rideShard, transactional: true, async (unit, token) =>
            {
                if (unit.AfterUnknownCommit && await unit.CreateCommand(PaymentByTransactionId).With("@TransactionId", transactionId).ReadSingleOrDefaultAsync(Rows.Payment, token).ConfigureAwait(false) is { } mine && mine.Id == id)
                {
                    return (mine, "COMPLETED", false, false);
                }

                Payment? stored;
                string? rideStatus;
                try
                {
                    var results = await unit.ExecuteReaderAndCommitAsync(unit.CreateCommand(RecordPaymentCrossShard)
                        .With("@Id", id).With("@RideId", rideId).With("@TransactionId", transactionId).With("@Amount", amount).With("@Now", now), token).ConfigureAwait(false);
                    await using (results.ConfigureAwait(false))
                    {
                        (stored, rideStatus) = await ReadBackAsync(unit, results, token).ConfigureAwait(false);
                    }
                }
                catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
                {
                    // The COMMITTED decision met ABORTED: the recovery pass gave this payment id up; nothing is kept.
                    if (await unit.RollBackThenReadInt64Async(unit.CreateCommand(KeyClaims.DecisionOf).With("@Id", id), token).ConfigureAwait(false) == 2)
                    {
                        return (null, null, true, false);
                    }

                    throw;
                }

                return (stored, rideStatus, false, stored is null && IsCompleted(rideStatus) && await IsUnpaidAsync(unit, rideId, token).ConfigureAwait(false));
            }, ct).ConfigureAwait(false);
        }
        catch (Exception)
        {
            if (!adopted)
            {
                // The payment may or may not have been written (a lost connection): release the claim only when the
                // payment can never come. When that fails too, the recovery pass does it later.
                await claims.ReleaseQuietlyAsync(phone: false, homeShard, transactionId, id).ConfigureAwait(false);
            }

            throw;
        }

        if (row.Fenced)
        {
            await claims.DeleteTransactionClaimAsync(homeShard, transactionId, id, CancellationToken.None).ConfigureAwait(false);
            throw KeyClaims.Fenced("RecordPayment");
        }

        if (row.Stored is { } payment && payment.Id == id)
        {
            if (!adopted)
            {
                await claims.StepAsync("RecordPayment:written").ConfigureAwait(false);
            }

            return (new PaymentResult(payment, AlreadyRecorded: adopted), false);
        }

        if (!adopted)
        {
            // No payment of this call was written: its claim goes (after an id collision no one else can write this id;
            // otherwise fence first, since a call that took the claim over may be writing it).
            if (row.Collision)
            {
                await claims.DeleteTransactionClaimAsync(homeShard, transactionId, id, CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await claims.ReleaseQuietlyAsync(phone: false, homeShard, transactionId, id).ConfigureAwait(false);
            }
        }

        return row.Collision ? (null, true) : (Classify(row.Stored, row.RideStatus, id, rideId, amount, adopted), false);
    }

    private static bool IsCompleted(string? rideStatus) => string.Equals(rideStatus, "COMPLETED", StringComparison.OrdinalIgnoreCase);

    private static async Task<bool> IsUnpaidAsync(UnitOfWork unit, long rideId, CancellationToken ct) =>
        await unit.CreateCommand(RideHasPayment).With("@RideId", rideId).ReadInt64Async(ct).ConfigureAwait(false) == 0;

    /// <summary>What is stored under the transaction id, compared with what was asked, decides the outcome.</summary>
    private PaymentResult Classify(Payment? stored, string? rideStatus, long id, long rideId, decimal amount, bool adopted)
    {
        if (stored is not null && stored.Id == id)
        {
            return new PaymentResult(stored, AlreadyRecorded: adopted);
        }

        if (rideStatus is null)
        {
            metrics.Conflict("RecordPayment", "not_found");
            throw new EntityNotFoundException($"Ride {rideId} does not exist.") { EntityKind = EntityKind.Ride, EntityId = rideId };
        }

        if (!IsCompleted(rideStatus))
        {
            metrics.Conflict("RecordPayment", "invalid_state");
            throw new InvalidRideStateException($"Ride {rideId} is {rideStatus.ToLowerInvariant()}; only a completed ride can be paid.");
        }

        if (stored is null)
        {
            metrics.Conflict("RecordPayment", "ride_already_paid");
            throw new PaymentConflictException($"Ride {rideId} already has a pending or succeeded payment under another transaction id.") { Conflict = RideBookingConflict.RideAlreadyPaid };
        }

        if (stored.RideId != rideId || stored.Amount != amount)
        {
            metrics.Conflict("RecordPayment", "transaction_mismatch");
            throw new PaymentConflictException("This transaction id is already recorded for another ride or amount.") { Conflict = RideBookingConflict.TransactionIdMismatch };
        }

        return new PaymentResult(stored, AlreadyRecorded: true);
    }

    public async Task<Payment> SetStatusAsync(string transactionId, PaymentStatus status, CancellationToken ct = default)
    {
        Guard.TransactionId(transactionId, nameof(transactionId));
        if (status is not (PaymentStatus.Succeeded or PaymentStatus.Failed))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "A payment can only be settled as Succeeded or Failed.");
        }

        var now = time.UtcNow();
        var shard = await FindShardAsync(transactionId, primaryOnly: true, ct).ConfigureAwait(false);
        if (shard < 0)
        {
            throw new EntityNotFoundException("No payment has this transaction id.") { EntityKind = EntityKind.Payment };
        }

        return await runner.RunAsync("SetPaymentStatus", shard, transactional: false, async (unit, token) =>
        {
            var stored = await unit.WriteThenReadFirstRowAsync(
                unit.CreateCommand(SettlePayment).With("@TransactionId", transactionId).With("@Status", status == PaymentStatus.Succeeded ? "SUCCEEDED" : "FAILED").With("@Now", now),
                Rows.Payment,
                (Payment?)null,
                token).ConfigureAwait(false);

            if (stored is null)
            {
                throw new EntityNotFoundException("No payment has this transaction id.") { EntityKind = EntityKind.Payment };
            }

            if (stored.Status != status)
            {
                metrics.Conflict("SetPaymentStatus", "final_status");
                throw new PaymentConflictException($"The payment is already {stored.Status}; a final status cannot change.") { Conflict = RideBookingConflict.PaymentStatusFinal };
            }

            return stored;
        }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// A payment found by transaction id alone: the claim on the id's home shard names the payment, whose id names its
    /// shard (two reads, each on one shard; one read when there is one shard).
    /// </summary>
    public async Task<Payment?> GetByTransactionIdAsync(string transactionId, CancellationToken ct = default)
    {
        Guard.TransactionId(transactionId, nameof(transactionId));
        var shard = await FindShardAsync(transactionId, primaryOnly: false, ct).ConfigureAwait(false);
        return shard < 0 ? null : await reader.ReadAsync("GetPaymentByTransactionId", shard, new MySqlCommand(PaymentByTransactionId).With("@TransactionId", transactionId), ReadPayment, ct).ConfigureAwait(false);
    }

    /// <summary>A payment lives with its ride: one read on the ride's shard.</summary>
    public Task<Payment?> GetForRideAsync(long rideId, CancellationToken ct = default)
    {
        Guard.Id(rideId, nameof(rideId));
        return reader.ReadAsync("GetPaymentForRide", shards.PhysicalShardOf(rideId), new MySqlCommand(PaymentForRide).With("@RideId", rideId), ReadPayment, ct);
    }

    /// <summary>
    /// The physical shard that holds the payment of a transaction id, from the claim on the id's home shard; -1 when there
    /// is no claim. The settlement reads it on the primary, so that a payment recorded a moment ago elsewhere is found.
    /// </summary>
    private async Task<int> FindShardAsync(string transactionId, bool primaryOnly, CancellationToken ct)
    {
        if (shards.PhysicalShardCount == 1)
        {
            return 0;
        }

        var homeShard = shards.PhysicalShardOfLogical(KeyHome.OfTransactionId(transactionId));
        var paymentId = await reader.ReadAsync("FindPayment", homeShard, new MySqlCommand(ClaimedPaymentId).With("@TransactionId", transactionId), ReadId, ct, primaryOnly).ConfigureAwait(false);
        return paymentId > 0 ? shards.PhysicalShardOf(paymentId) : -1;
    }

    /// <summary>Reads what a recording batch read back: the payment stored under the transaction id, then the ride's status.</summary>
    private static async Task<(Payment? Stored, string? RideStatus)> ReadBackAsync(UnitOfWork unit, UnitResults results, CancellationToken ct)
    {
        var stored = await results.ReadAsync(ct).ConfigureAwait(false) ? Rows.Payment(results.Reader) : null;
        await results.NextResultAsync(ct).ConfigureAwait(false);
        var rideStatus = await results.ReadAsync(ct).ConfigureAwait(false) ? results.Reader.GetString(0) : null;
        await unit.CaptureWriteMarkAsync(results, ct).ConfigureAwait(false);
        return (stored, rideStatus);
    }
}
