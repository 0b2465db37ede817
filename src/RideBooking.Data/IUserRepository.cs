namespace RideBooking.Data;

/// <summary>Creates and reads users.</summary>
public interface IUserRepository
{
    /// <summary>
    /// Creates a user. The phone number is unique over all shards: it is claimed on its home shard (chosen from the
    /// phone's digits) in the same transaction as the user when the user lands on that shard, and just before it otherwise.
    /// </summary>
    /// <param name="name">The display name: 1 to 100 characters, not only white space.</param>
    /// <param name="phone">
    /// The phone number: 1 to 20 characters, not only white space, unique across users as the database compares text
    /// (case, accents, character width and trailing spaces are ignored).
    /// </param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The stored user.</returns>
    /// <exception cref="ArgumentException">A malformed name or phone.</exception>
    /// <exception cref="DuplicatePhoneException">Another user already has <paramref name="phone"/> (on any shard).</exception>
    /// <exception cref="RideBookingInfrastructureException">
    /// The recovery pass gave this creation up before its user was written (the process stalled longer than
    /// <see cref="RideBookingOptions.RecoveryGracePeriod"/> between its two steps); nothing is stored, and trying again is safe.
    /// </exception>
#pragma warning disable RS0026 // Both overloads end in an optional token by contract; the key's string argument keeps calls unambiguous.
    Task<User> CreateAsync(string name, string phone, CancellationToken ct = default);

    /// <summary>
    /// Creates a user, as <see cref="CreateAsync(string, string, CancellationToken)"/>, under the caller's idempotency key: a
    /// repeat with the same key returns the user the first call created instead of failing with
    /// <see cref="DuplicatePhoneException"/> for its own user. The user's logical shard is chosen from the key, and the key
    /// is stored with the user, in the same transaction.
    /// </summary>
    /// <param name="name">The display name: 1 to 100 characters, not only white space.</param>
    /// <param name="phone">The phone number, as for <see cref="CreateAsync(string, string, CancellationToken)"/>.</param>
    /// <param name="idempotencyKey">The caller's key: 1 to 100 characters, compared byte for byte, no white space at either end.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The stored user: the first call's user when the key was used before.</returns>
    /// <exception cref="ArgumentException">A malformed name, phone or key.</exception>
    /// <exception cref="IdempotencyKeyConflictException">The key was used before with another name or phone.</exception>
    /// <exception cref="DuplicatePhoneException">Another user already has <paramref name="phone"/> (on any shard).</exception>
    Task<User> CreateAsync(string name, string phone, string idempotencyKey, CancellationToken ct = default);
#pragma warning restore RS0026

    /// <summary>Reads a user by id.</summary>
    /// <param name="userId">The user's id.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The user, or <see langword="null"/> when there is none with that id.</returns>
    Task<User?> GetAsync(long userId, CancellationToken ct = default);

    /// <summary>
    /// Reads the user who has a phone number (sign-in by phone): the phone's claim on its home shard names the user, who is
    /// then read on its own shard; with one shard, one read.
    /// </summary>
    /// <param name="phone">The phone number, compared as the database compares text (case, accents, width and trailing spaces ignored).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The user, or <see langword="null"/> when no user has that phone (or its creation has not finished).</returns>
    /// <exception cref="ArgumentException">A malformed phone (as for <see cref="CreateAsync(string, string, CancellationToken)"/>).</exception>
    Task<User?> GetByPhoneAsync(string phone, CancellationToken cancellationToken = default);
}
