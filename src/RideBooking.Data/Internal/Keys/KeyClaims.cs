using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>
/// The steps of the unique-key protocol that users and payments share (see <c>schema/007_unique_keys.sql</c>): a claim on
/// the key's home shard, and the fence that decides, on the row's shard, whether a pre-generated id's row can still come.
/// </summary>
internal sealed class KeyClaims(ShardResolver shards, TransactionRunner runner, TimeProvider time)
{
    /// <summary>Inserts ABORTED unless a decision is there, then reads the decision that holds: the primary key decides.</summary>
    private const string Fence = """
        INSERT INTO cross_shard_decisions (id, outcome, decided_at) VALUES (@Id, 'ABORTED', @Now)
        ON DUPLICATE KEY UPDATE cross_shard_decisions.id = cross_shard_decisions.id;
        SELECT outcome FROM cross_shard_decisions WHERE id = @Id
        """;

    /// <summary>The decision for an id, after a failed write batch: 2 = ABORTED, 1 = COMMITTED, 0 = none.</summary>
    internal const string DecisionOf = """
        SELECT CASE (SELECT outcome FROM cross_shard_decisions WHERE id = @Id) WHEN 'ABORTED' THEN 2 WHEN 'COMMITTED' THEN 1 ELSE 0 END
        """;

    /// <summary>The writer's commit point on the row's shard, in the row's transaction: fails when ABORTED is there.</summary>
    internal const string InsertCommitted = "INSERT INTO cross_shard_decisions (id, outcome, decided_at) VALUES (@Id, 'COMMITTED', @Now)";

    private const string DeletePhoneClaim = "DELETE FROM phone_claims WHERE phone = @Key AND user_id = @Id AND confirmed = FALSE";

    private const string DeleteTransactionClaim = "DELETE FROM transaction_claims WHERE transaction_id = @Key AND payment_id = @Id AND confirmed = FALSE";

    private const string ConfirmPhoneClaim = "UPDATE phone_claims SET confirmed = TRUE WHERE phone = @Key AND user_id = @Id";

    private const string ConfirmTransactionClaim = "UPDATE transaction_claims SET confirmed = TRUE WHERE transaction_id = @Key AND payment_id = @Id";

    /// <summary>
    /// Test seam: runs between the steps of a cross-shard write with the step's name ("CreateUser:claimed",
    /// "CreateUser:written", "RecordPayment:claimed", "RecordPayment:written"). What it throws escapes as it is, with
    /// nothing undone: as if the process had died there.
    /// </summary>
    internal Func<string, Task>? AfterStep { get; set; }

    internal Task StepAsync(string step) => AfterStep is { } hook ? hook(step) : Task.CompletedTask;

    /// <summary>The error a writer raises when the recovery pass aborted its pre-generated id before its row came.</summary>
    internal static RideBookingInfrastructureException Fenced(string operation) =>
        new($"{operation}: the recovery pass gave up on this write (its claim was older than RecoveryGracePeriod and its row had not come), so nothing was stored. Try again.")
        {
            Operation = operation,
            IsTransient = true,
        };

    /// <summary>On the shard of <paramref name="id"/>: makes sure its row can never come unless it is there; true when it can never come (ABORTED).</summary>
    public Task<bool> FenceAsync(long id, CancellationToken ct) =>
        runner.RunAsync("FenceCrossShard", shards.PhysicalShardOf(id), transactional: false, (unit, token) =>
            unit.WriteThenReadFirstRowAsync(
                unit.CreateCommand(Fence).With("@Id", id).With("@Now", time.UtcNow()),
                static reader => string.Equals(reader.GetString(0), "ABORTED", StringComparison.OrdinalIgnoreCase),
                false,
                token), ct);

    /// <summary>Deletes an unconfirmed phone claim (only this user's); true when it was there.</summary>
    public Task<bool> DeletePhoneClaimAsync(int homeShard, string phone, long userId, CancellationToken ct) =>
        WriteClaimAsync("ReleasePhoneClaim", homeShard, DeletePhoneClaim, phone, userId, ct);

    /// <summary>Deletes an unconfirmed transaction claim (only this payment's); true when it was there.</summary>
    public Task<bool> DeleteTransactionClaimAsync(int homeShard, string transactionId, long paymentId, CancellationToken ct) =>
        WriteClaimAsync("ReleaseTransactionClaim", homeShard, DeleteTransactionClaim, transactionId, paymentId, ct);

    public Task<bool> ConfirmPhoneClaimAsync(int homeShard, string phone, long userId, CancellationToken ct) =>
        WriteClaimAsync("ConfirmPhoneClaim", homeShard, ConfirmPhoneClaim, phone, userId, ct);

    public Task<bool> ConfirmTransactionClaimAsync(int homeShard, string transactionId, long paymentId, CancellationToken ct) =>
        WriteClaimAsync("ConfirmTransactionClaim", homeShard, ConfirmTransactionClaim, transactionId, paymentId, ct);

    /// <summary>
    /// After the row step of a cross-shard write failed: fences the id and, when its row can never come, deletes the claim.
    /// Best effort: when a shard does not answer, the claim stays and the recovery pass repairs it later.
    /// </summary>
    public async Task ReleaseQuietlyAsync(bool phone, int homeShard, string key, long id)
    {
        try
        {
            if (await FenceAsync(id, CancellationToken.None).ConfigureAwait(false))
            {
                _ = phone
                    ? await DeletePhoneClaimAsync(homeShard, key, id, CancellationToken.None).ConfigureAwait(false)
                    : await DeleteTransactionClaimAsync(homeShard, key, id, CancellationToken.None).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // The original error is what the caller needs; an unreleased claim is repaired by recovery.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private Task<bool> WriteClaimAsync(string operation, int shard, string sql, string key, long id, CancellationToken ct) =>
        runner.RunAsync(operation, shard, transactional: false, async (unit, token) =>
            await unit.ExecuteWriteAsync(unit.CreateCommand(sql).With("@Key", key).With("@Id", id), token).ConfigureAwait(false) > 0, ct);
}

/// <summary>
/// Recovery of claims whose cross-shard write was interrupted: every unconfirmed phone or transaction claim older than the
/// cutoff is fenced on its row's shard (ABORTED inserted unless COMMITTED is there). ABORTED: the row can never come, the
/// claim is deleted (a repair). COMMITTED: the row exists, the claim is confirmed and never looked at again. Safe from
/// several processes at once: the decision's primary key decides, and deletes and confirmations name the claim exactly.
/// </summary>
internal sealed class KeyClaimRecovery(ShardReader reader, ShardResolver shards, KeyClaims claims) : IRecoveryStep
{
    private const int BatchSize = 500;

    private const string PendingPhoneClaims = """
        SELECT phone, user_id FROM phone_claims WHERE confirmed = FALSE AND claimed_at < @Cutoff ORDER BY claimed_at LIMIT 500
        """;

    private const string PendingTransactionClaims = """
        SELECT transaction_id, payment_id FROM transaction_claims WHERE confirmed = FALSE AND claimed_at < @Cutoff ORDER BY claimed_at LIMIT 500
        """;

    private static readonly Func<MySqlDataReader, CancellationToken, Task<List<(string Key, long Id)>>> ReadClaims =
        static (r, ct) => r.ReadListAsync(static row => (row.GetString(0), row.GetInt64(1)), ct);

    public async Task<int> RunAsync(DateTime cutoff, CancellationToken ct)
    {
        var repairs = 0;
        for (var shard = 0; shard < shards.PhysicalShardCount; shard++)
        {
            repairs += await RepairAsync(shard, phone: true, cutoff, ct).ConfigureAwait(false);
            repairs += await RepairAsync(shard, phone: false, cutoff, ct).ConfigureAwait(false);
        }

        return repairs;
    }

    private async Task<int> RepairAsync(int homeShard, bool phone, DateTime cutoff, CancellationToken ct)
    {
        var repairs = 0;
        while (true)
        {
            var pending = await reader.ReadAsync(
                phone ? "RecoverPhoneClaims" : "RecoverTransactionClaims",
                homeShard,
                new MySqlCommand(phone ? PendingPhoneClaims : PendingTransactionClaims).With("@Cutoff", cutoff),
                ReadClaims,
                ct,
                primaryOnly: true).ConfigureAwait(false);
            foreach (var (key, id) in pending)
            {
                if (await claims.FenceAsync(id, ct).ConfigureAwait(false))
                {
                    var deleted = phone
                        ? await claims.DeletePhoneClaimAsync(homeShard, key, id, ct).ConfigureAwait(false)
                        : await claims.DeleteTransactionClaimAsync(homeShard, key, id, ct).ConfigureAwait(false);
                    repairs += deleted ? 1 : 0;
                }
                else
                {
                    _ = phone
                        ? await claims.ConfirmPhoneClaimAsync(homeShard, key, id, ct).ConfigureAwait(false)
                        : await claims.ConfirmTransactionClaimAsync(homeShard, key, id, ct).ConfigureAwait(false);
                }
            }

            if (pending.Count < BatchSize)
            {
                return repairs;
            }
        }
    }
}
