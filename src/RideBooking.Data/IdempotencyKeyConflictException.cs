namespace RideBooking.Data;

/// <summary>
/// An idempotency key was used again with different arguments: a repeat must send exactly what the first call sent.
/// Nothing was written by the repeat.
/// </summary>
public sealed class IdempotencyKeyConflictException : RideBookingException
{
    /// <summary>Initializes a new instance of the <see cref="IdempotencyKeyConflictException"/> class.</summary>
    public IdempotencyKeyConflictException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="IdempotencyKeyConflictException"/> class.</summary>
    /// <param name="message">What went wrong.</param>
    public IdempotencyKeyConflictException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="IdempotencyKeyConflictException"/> class.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public IdempotencyKeyConflictException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the idempotency key that was used again.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>Gets the id of the entity the key's first call stored (the ride, user or driver id).</summary>
    public long? ExistingEntityId { get; init; }
}
