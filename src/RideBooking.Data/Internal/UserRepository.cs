using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>
/// Users live on their own logical shard (round robin); a phone number is unique over all shards through its claim in
/// <c>phone_claims</c> on the phone's home shard (<see cref="KeyHome.OfPhone"/>). When the home and the user share a
/// physical shard, the claim and the user are one local transaction. Otherwise: claim (autocommit, on the home shard),
/// then the user with a COMMITTED decision for its id (one local transaction on the user's shard); a claim whose user
/// never came is deleted again by the writer or, when it died, by <see cref="KeyClaimRecovery"/>.
/// </summary>
internal sealed class UserRepository(ShardReader reader, ShardResolver shards, TransactionRunner runner, IdGenerator ids, TimeProvider time, RideBookingMetrics metrics, KeyClaims claims) : IUserRepository
{
    internal const string UserById = """
        SELECT id AS Id, name AS Name, phone AS Phone, created_at AS CreatedAt
        FROM users WHERE id = @Id
        """;

    internal const string UserByPhone = """
        SELECT id AS Id, name AS Name, phone AS Phone, created_at AS CreatedAt
        FROM users WHERE phone = @Phone
        """;

    private const string InsertUser = """
        INSERT INTO users (id, name, phone, created_at) VALUES (@Id, @Name, @Phone, @CreatedAt)
        """;

    /// <summary>The claim written in the user's own transaction: confirmed from the start.</summary>
    private const string InsertConfirmedClaim = """
        INSERT INTO phone_claims (phone, user_id, claimed_at, confirmed, logical_shard) VALUES (@Phone, @Id, @CreatedAt, TRUE, @Home)
        """;

    /// <summary>The claim of a cross-shard creation, then who holds the phone: this call (also after a replay) or another user.</summary>
    private const string ClaimPhone = """
        INSERT INTO phone_claims (phone, user_id, claimed_at, confirmed, logical_shard) VALUES (@Phone, @Id, @CreatedAt, FALSE, @Home)
        ON DUPLICATE KEY UPDATE phone_claims.user_id = phone_claims.user_id;
        SELECT user_id FROM phone_claims WHERE phone = @Phone
        """;

    private const string ClaimOwner = "SELECT COALESCE((SELECT user_id FROM phone_claims WHERE phone = @Phone), 0)";

    private const string ClaimedUserId = "SELECT user_id FROM phone_claims WHERE phone = @Phone";

    private static readonly Func<MySqlDataReader, CancellationToken, Task<User?>> ReadUser = static (r, ct) => r.ReadSingleOrDefaultAsync(Rows.User, ct);

    private static readonly Func<MySqlDataReader, CancellationToken, Task<long>> ReadId =
        static async (r, ct) => await r.ReadAsync(ct).ConfigureAwait(false) ? r.GetInt64(0) : 0;

    private enum Outcome
    {
        Created,
        IdCollision,
        DuplicatePhone,
        Fenced,
        ClaimVanished,
        Repeat,
    }

    public Task<User> CreateAsync(string name, string phone, CancellationToken ct = default) => CreateAsync(name, phone, key: null, ct);

    public Task<User> CreateAsync(string name, string phone, string idempotencyKey, CancellationToken ct = default)
    {
        Guard.IdempotencyKey(idempotencyKey, nameof(idempotencyKey));
        // The phone is part of the request's hash only: it is never stored with the key in clear.
        return CreateAsync(name, phone, CallerKey.For(CallerKey.CreateUser, 0, idempotencyKey, name, phone), ct);
    }

    private async Task<User> CreateAsync(string name, string phone, CallerKey? key, CancellationToken ct)
    {
        Guard.Text(name, nameof(name), Guard.NameMaxLength);
        Guard.Text(phone, nameof(phone), Guard.PhoneMaxLength);

        // A new user gets the next logical shard of the round robin, so users spread evenly; a keyed creation the logical
        // shard its key names, so a repeat reaches the one shard that can hold the key. The phone's home is its own.
        var logicalShard = key?.Home ?? ids.NextSpreadShard();
        var userShard = shards.PhysicalShardOfLogical(logicalShard);
        var home = KeyHome.OfPhone(phone);
        var homeShard = shards.PhysicalShardOfLogical(home);
        if (key is not null && userShard != homeShard && await FindKeyedUserAsync(key, userShard, ct).ConfigureAwait(false) is { } earlier)
        {
            // A repeat: the first call's user, without claiming its phone again (the claim names the first user).
            return earlier;
        }

        while (true)
        {
            var user = new User(ids.Next(logicalShard), name, phone, time.UtcNow());
            var (outcome, first) = userShard == homeShard
                ? await CreateLocalAsync(user, home, userShard, key, ct).ConfigureAwait(false)
                : await CreateCrossShardAsync(user, home, homeShard, userShard, key, ct).ConfigureAwait(false);
            switch (outcome)
            {
                case Outcome.Created:
                    return user;
                case Outcome.Repeat:
                    return await ReadPrimaryAsync(first, ct).ConfigureAwait(false);
                case Outcome.DuplicatePhone:
                    // A concurrent call with the same key may have claimed the phone for its user first.
                    if (key is not null && userShard != homeShard && await FindKeyedUserAsync(key, userShard, ct).ConfigureAwait(false) is { } concurrent)
                    {
                        return concurrent;
                    }

                    throw new DuplicatePhoneException("Another user already has this phone number.");
                case Outcome.Fenced:
                    throw KeyClaims.Fenced("CreateUser");
                case Outcome.IdCollision:
                    metrics.IdCollision("CreateUser");
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>The user a caller's key already created (read on the primary); <see langword="null"/> when the key is unused.</summary>
    private Task<User?> FindKeyedUserAsync(CallerKey key, int shard, CancellationToken ct) =>
        runner.RunAsync("CreateUser.FindKey", shard, transactional: false, async (unit, token) =>
        {
            var found = await key.Bind(unit.CreateCommand(CallerKey.Find)).ReadSingleOrDefaultAsync(CallerKey.ReadStored, token).ConfigureAwait(false);
            return found is null ? null : await unit.CreateCommand(UserById).With("@Id", key.Resolve(found, "another user")).ReadSingleOrDefaultAsync(Rows.User, token).ConfigureAwait(false);
        }, ct);

    private async Task<User> ReadPrimaryAsync(long userId, CancellationToken ct) =>
        await runner.RunAsync("CreateUser.FindKey", shards.PhysicalShardOf(userId), transactional: false, (unit, token) =>
            unit.CreateCommand(UserById).With("@Id", userId).ReadSingleOrDefaultAsync(Rows.User, token), ct).ConfigureAwait(false)
        ?? throw new RideBookingInfrastructureException("The user of this idempotency key could not be read; try again.") { Operation = "CreateUser", IsTransient = true };

    /// <summary>After a duplicate key (the transaction rolled back): the first call's user id when the caller's key is taken by another user.</summary>
    private static async Task<long> KeyTakenByAsync(UnitOfWork unit, CallerKey? key, long userId, CancellationToken ct)
    {
        if (key is null || await key.Bind(unit.CreateCommand(CallerKey.Find)).ReadSingleOrDefaultAsync(CallerKey.ReadStored, ct).ConfigureAwait(false) is not { } stored
            || stored.EntityId == userId)
        {
            return 0;
        }

        return key.Resolve(stored, "another user");
    }

    /// <summary>Claim and user in one local transaction, one round trip.</summary>
    private Task<(Outcome, long)> CreateLocalAsync(User user, int home, int shard, CallerKey? key, CancellationToken ct) =>
        runner.RunAsync<(Outcome, long)>("CreateUser", shard, transactional: true, async (unit, token) =>
        {
            // Only a row with everything this call wrote is its own: another process may have used the same id.
            // A locking read: a lost session still committing this user is waited for, not missed.
            if (unit.AfterUnknownCommit && await unit.CreateCommand(UserById + " FOR UPDATE").With("@Id", user.Id).ReadSingleOrDefaultAsync(Rows.User, token).ConfigureAwait(false) is { } stored && stored == user)
            {
                return (Outcome.Created, user.Id);
            }

            try
            {
                var insert = unit.CreateCommand((key is null ? string.Empty : CallerKey.Insert + ";\n") + InsertConfirmedClaim + ";\n" + InsertUser)
                    .With("@Id", user.Id).With("@Name", user.Name).With("@Phone", user.Phone).With("@CreatedAt", user.CreatedAt).With("@Home", home);
                await unit.ExecuteAndCommitAsync(key is null ? insert : key.Bind(insert, user.Id, user.CreatedAt), token).ConfigureAwait(false);
                return (Outcome.Created, user.Id);
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
            {
                // A duplicate key means the conflicting row is committed: it may be this call's own earlier attempt, whose
                // COMMIT was lost on the way back while the replay's first look could not see it yet.
                if (await unit.RollBackThenReadAsync(unit.CreateCommand(UserById).With("@Id", user.Id), Rows.User, token).ConfigureAwait(false) == user)
                {
                    return (Outcome.Created, user.Id);
                }

                // The caller's key, taken by a first call with the same key: its user is the result.
                if (await KeyTakenByAsync(unit, key, user.Id, token).ConfigureAwait(false) is var first and > 0)
                {
                    return (Outcome.Repeat, first);
                }

                // The claim's primary key and the user's can both be named PRIMARY: the stored claim tells them apart.
                var owner = await unit.CreateCommand(ClaimOwner).With("@Phone", user.Phone).ReadInt64Async(token).ConfigureAwait(false);
                return (ex.IsDuplicateKey("uq_users_phone") || (owner != 0 && owner != user.Id) ? Outcome.DuplicatePhone : Outcome.IdCollision, 0L);
            }
        }, ct, () => new OutcomeKey(EntityId: user.Id, IdempotencyKey: key?.Key));

    private async Task<(Outcome, long)> CreateCrossShardAsync(User user, int home, int homeShard, int userShard, CallerKey? key, CancellationToken ct)
    {
        // Step 1, home shard: the claim. Replaying it is safe: the stored claim names its user.
        var owner = await runner.RunAsync("ClaimPhone", homeShard, transactional: false, (unit, token) =>
            unit.WriteThenReadFirstRowAsync(
                unit.CreateCommand(ClaimPhone).With("@Phone", user.Phone).With("@Id", user.Id).With("@CreatedAt", user.CreatedAt).With("@Home", home),
                static reader => reader.GetInt64(0),
                0L,
                token), ct).ConfigureAwait(false);
        if (owner != user.Id)
        {
            // Another user's claim; or none at all when recovery deleted it between the two statements: claim again.
            return (owner == 0 ? Outcome.ClaimVanished : Outcome.DuplicatePhone, 0L);
        }

        await claims.StepAsync("CreateUser:claimed").ConfigureAwait(false);

        // Step 2, user's shard: the user and its COMMITTED decision, one local transaction (the commit point).
        (Outcome Outcome, long First) written;
        try
        {
            written = await runner.RunAsync<(Outcome, long)>("CreateUser", userShard, transactional: true, async (unit, token) =>
            {
                if (unit.AfterUnknownCommit && await unit.CreateCommand(UserById + " FOR UPDATE").With("@Id", user.Id).ReadSingleOrDefaultAsync(Rows.User, token).ConfigureAwait(false) is { } stored && stored == user)
                {
                    return (Outcome.Created, user.Id);
                }

                try
                {
                    var insert = unit.CreateCommand((key is null ? string.Empty : CallerKey.Insert + ";\n") + InsertUser + ";\n" + KeyClaims.InsertCommitted)
                        .With("@Id", user.Id).With("@Name", user.Name).With("@Phone", user.Phone).With("@CreatedAt", user.CreatedAt).With("@Now", time.UtcNow());
                    await unit.ExecuteAndCommitAsync(key is null ? insert : key.Bind(insert, user.Id, user.CreatedAt), token).ConfigureAwait(false);
                    return (Outcome.Created, user.Id);
                }
                catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
                {
                    // This call's own earlier attempt (a lost COMMIT) is a success, not a collision: never release its claim.
                    if (await unit.RollBackThenReadAsync(unit.CreateCommand(UserById).With("@Id", user.Id), Rows.User, token).ConfigureAwait(false) == user)
                    {
                        return (Outcome.Created, user.Id);
                    }

                    if (await KeyTakenByAsync(unit, key, user.Id, token).ConfigureAwait(false) is var first and > 0)
                    {
                        return (Outcome.Repeat, first);
                    }

                    var decision = await unit.CreateCommand(KeyClaims.DecisionOf).With("@Id", user.Id).ReadInt64Async(token).ConfigureAwait(false);
                    return (ex.IsDuplicateKey("uq_users_phone") ? Outcome.DuplicatePhone : decision == 2 ? Outcome.Fenced : Outcome.IdCollision, 0L);
                }
            }, ct, () => new OutcomeKey(EntityId: user.Id, IdempotencyKey: key?.Key)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The user may or may not have been written (a lost connection): fence its id, and release the claim only
            // when the user can never come. When that fails too, the recovery pass does it later.
            await claims.ReleaseQuietlyAsync(phone: true, homeShard, user.Phone, user.Id).ConfigureAwait(false);
            throw;
        }

        if (written.Outcome != Outcome.Created)
        {
            // Nothing of this attempt was committed, and no one else writes a user with this id.
            await claims.DeletePhoneClaimAsync(homeShard, user.Phone, user.Id, CancellationToken.None).ConfigureAwait(false);
            return written;
        }

        await claims.StepAsync("CreateUser:written").ConfigureAwait(false);
        return written;
    }

    public Task<User?> GetAsync(long userId, CancellationToken ct = default)
    {
        Guard.Id(userId, nameof(userId));
        return reader.ReadAsync("GetUser", shards.PhysicalShardOf(userId), new MySqlCommand(UserById).With("@Id", userId), ReadUser, ct);
    }

    public async Task<User?> GetByPhoneAsync(string phone, CancellationToken cancellationToken = default)
    {
        Guard.Text(phone, nameof(phone), Guard.PhoneMaxLength);
        if (shards.PhysicalShardCount == 1)
        {
            return await reader.ReadAsync("GetUserByPhone", 0, new MySqlCommand(UserByPhone).With("@Phone", phone), ReadUser, cancellationToken).ConfigureAwait(false);
        }

        // The claim on the phone's home shard names the user, whose id names its shard.
        var homeShard = shards.PhysicalShardOfLogical(KeyHome.OfPhone(phone));
        var userId = await reader.ReadAsync("GetUserByPhone", homeShard, new MySqlCommand(ClaimedUserId).With("@Phone", phone), ReadId, cancellationToken).ConfigureAwait(false);
        if (userId <= 0)
        {
            return null;
        }

        // A claim whose user is still being written (or never came) finds nothing.
        return await reader.ReadAsync("GetUserByPhone", shards.PhysicalShardOf(userId), new MySqlCommand(UserById).With("@Id", userId), ReadUser, cancellationToken).ConfigureAwait(false);
    }
}
