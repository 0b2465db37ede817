namespace RideBooking.Data;

/// <summary>
/// A user, driver, ride or payment with the given id does not exist. <see cref="EntityKind"/> and <see cref="EntityId"/>
/// say which; <see cref="RideBookingException.Conflict"/> is <see cref="RideBookingConflict.None"/>.
/// </summary>
public sealed class EntityNotFoundException : RideBookingException
{
    /// <summary>Creates the exception.</summary>
    public EntityNotFoundException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public EntityNotFoundException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public EntityNotFoundException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the kind of entity that was looked for.</summary>
    public EntityKind EntityKind { get; init; }

    /// <summary>
    /// Gets the id that was looked for, or <see langword="null"/> when the entity was looked for by another key (a payment
    /// by its provider transaction id, which is not repeated here).
    /// </summary>
    public long? EntityId { get; init; }
}
