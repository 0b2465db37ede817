using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>
/// A caller's idempotency key for one call: stored in <c>idempotency_keys</c> (schema 010) in the same local transaction as
/// the row it stands for, on that row's shard, so that the key exists exactly when the row was committed. A repeat with the
/// same key and arguments finds it and returns the first result; other arguments are a conflict.
/// </summary>
/// <param name="Operation">BOOK_RIDE, CREATE_USER or CREATE_DRIVER.</param>
/// <param name="Scope">The user id for a booking (a booking's key is unique per user); 0 for creations.</param>
/// <param name="Key">The caller's key.</param>
/// <param name="RequestHash">SHA-256 of the call's arguments.</param>
internal sealed record CallerKey(string Operation, long Scope, string Key, byte[] RequestHash)
{
    public const string BookRide = "BOOK_RIDE";
    public const string CreateUser = "CREATE_USER";
    public const string CreateDriver = "CREATE_DRIVER";

    /// <summary>Takes the key: fails with a duplicate key (after waiting for a concurrent holder to finish) when it is taken.</summary>
    public const string Insert = """
        INSERT INTO idempotency_keys (operation, scope_id, idempotency_key, request_hash, entity_id, created_at)
        VALUES (@KeyOperation, @KeyScope, @IdempotencyKey, @RequestHash, @KeyEntity, @KeyCreatedAt)
        """;

    /// <summary>Points a key taken in this transaction at a new entity id (after a generated id collided).</summary>
    public const string Repoint = """
        UPDATE idempotency_keys SET entity_id = @KeyEntity WHERE operation = @KeyOperation AND scope_id = @KeyScope AND idempotency_key = @IdempotencyKey
        """;

    /// <summary>The key's stored first call.</summary>
    public const string Find = """
        SELECT entity_id, request_hash FROM idempotency_keys WHERE operation = @KeyOperation AND scope_id = @KeyScope AND idempotency_key = @IdempotencyKey
        """;

    public static CallerKey? For(string operation, long scope, string? key, params object[] arguments) =>
        key is null ? null : new(operation, scope, key, Hash(arguments));

    /// <summary>The logical shard a created user or driver lives on when its creation carries a key: chosen from the key, so a repeat finds it.</summary>
    public int Home => (int)(KeyHome.Crc32(Encoding.UTF8.GetBytes(Key)) & 255);

    public UnitCommand Bind(UnitCommand command, long entityId, DateTime now) =>
        Bind(command).With("@KeyEntity", entityId).With("@KeyCreatedAt", now).With("@RequestHash", RequestHash);

    public UnitCommand Bind(UnitCommand command) =>
        command.With("@KeyOperation", Operation).With("@KeyScope", Scope).With("@IdempotencyKey", Key);

    /// <summary>The stored entity id when the stored call had the same arguments; otherwise the conflict.</summary>
    public long Resolve(StoredKey stored, string what) =>
        stored.RequestHash.AsSpan().SequenceEqual(RequestHash)
            ? stored.EntityId
            : throw new IdempotencyKeyConflictException($"This idempotency key was already used for {what} with other arguments; nothing was written.")
            {
                IdempotencyKey = Key,
                ExistingEntityId = stored.EntityId,
            };

    public static StoredKey ReadStored(MySqlDataReader reader) => new(reader.GetInt64(0), (byte[])reader.GetValue(1));

    /// <summary>Reads the stored key (after the transaction that found it taken was rolled back).</summary>
    public async Task<StoredKey> FindAsync(UnitOfWork unit, CancellationToken ct) =>
        await Bind(unit.CreateCommand(Find)).ReadSingleOrDefaultAsync(ReadStored, ct).ConfigureAwait(false)
        ?? throw Vanished(unit);

    /// <summary>Ends the transaction and reads the stored key in one round trip.</summary>
    public async Task<StoredKey> RollBackThenFindAsync(UnitOfWork unit, CancellationToken ct) =>
        await unit.RollBackThenReadAsync(Bind(unit.CreateCommand(Find)), ReadStored, ct).ConfigureAwait(false)
        ?? throw Vanished(unit);

    private static RideBookingInfrastructureException Vanished(UnitOfWork unit) =>
        new("The idempotency key's row was reported taken but could not be read; try again.") { IsTransient = true, Operation = "IdempotencyKey" };

    private static byte[] Hash(object[] arguments)
    {
        var text = string.Join('\u001f', arguments.Select(a => Convert.ToString(a, CultureInfo.InvariantCulture)));
        return SHA256.HashData(Encoding.UTF8.GetBytes(text));
    }
}

/// <summary>What a key's first call stored.</summary>
internal sealed record StoredKey(long EntityId, byte[] RequestHash);
