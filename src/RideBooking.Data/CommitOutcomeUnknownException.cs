namespace RideBooking.Data;

/// <summary>
/// The connection to the server was lost while a write was committing, and the server did not come back within
/// <see cref="RideBookingOptions.UnknownOutcomeWaitTimeout"/>; or, on a Galera node, COMMIT answered an error (which
/// there does not prove that nothing was stored) and the replays that look for the write spent their retries: the
/// write may or may not be stored. The exception names
/// what resolves the doubt once the server is back: repeat the call with the same <see cref="IdempotencyKey"/> (it returns
/// the first result if there was one), or look the entity up by <see cref="EntityId"/> or <see cref="TransactionId"/>.
/// </summary>
public sealed class CommitOutcomeUnknownException : RideBookingInfrastructureException
{
    /// <summary>Initializes a new instance of the <see cref="CommitOutcomeUnknownException"/> class.</summary>
    public CommitOutcomeUnknownException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CommitOutcomeUnknownException"/> class.</summary>
    /// <param name="message">What happened.</param>
    public CommitOutcomeUnknownException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CommitOutcomeUnknownException"/> class.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The driver's error.</param>
    public CommitOutcomeUnknownException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// Gets the caller's idempotency key of the call (the <c>idempotencyKey</c> argument of <see cref="IRideBookingService.BookAsync(long, long, decimal, string, CancellationToken)"/>,
    /// <see cref="IUserRepository.CreateAsync(string, string, string, CancellationToken)"/> or <see cref="IDriverRepository.CreateAsync(string, string, string, CancellationToken)"/>);
    /// <see langword="null"/> when the call had none.
    /// </summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>
    /// Gets the id the write would have stored: the ride id of a booking, the user id of a user creation, the driver id of a
    /// driver creation, or the ride id of a ride's transition; <see langword="null"/> for payments (see <see cref="TransactionId"/>).
    /// The id is generated before the first attempt: if a row with this id exists, the write committed.
    /// </summary>
    public long? EntityId { get; init; }

    /// <summary>Gets the provider transaction id of a payment write (its own idempotency key); <see langword="null"/> for other writes.</summary>
    public string? TransactionId { get; init; }
}
