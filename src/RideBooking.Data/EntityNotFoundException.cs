namespace RideBooking.Data;

/// <summary>A user, driver, ride or payment with the given id does not exist.</summary>
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
}
