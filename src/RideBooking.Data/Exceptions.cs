namespace RideBooking.Data;

/// <summary>The base of every business-rule error this library raises. Nothing was written when it is thrown.</summary>
/// <remarks>Malformed arguments raise the <see cref="ArgumentException"/> family instead.</remarks>
public class RideBookingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RideBookingException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public RideBookingException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public RideBookingException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The driver cannot be booked: it is already held by another active ride.</summary>
public sealed class DriverUnavailableException : RideBookingException
{
    /// <summary>Creates the exception.</summary>
    public DriverUnavailableException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public DriverUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public DriverUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The user already has an active (requested or accepted) ride.</summary>
public sealed class ActiveRideExistsException : RideBookingException
{
    /// <summary>Creates the exception.</summary>
    public ActiveRideExistsException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public ActiveRideExistsException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public ActiveRideExistsException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The ride is not in a state that allows the transition (including a replay of a transition
/// that already happened, such as completing a completed ride), or the caller is not the ride's driver.
/// </summary>
public sealed class InvalidRideStateException : RideBookingException
{
    /// <summary>Creates the exception.</summary>
    public InvalidRideStateException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public InvalidRideStateException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public InvalidRideStateException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The payment contradicts one already stored: the same transaction id with another ride or
/// amount, a ride already paid under another transaction id, or a change of a final status.
/// </summary>
public sealed class PaymentConflictException : RideBookingException
{
    /// <summary>Creates the exception.</summary>
    public PaymentConflictException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public PaymentConflictException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public PaymentConflictException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

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

/// <summary>Another user already has this phone number.</summary>
public sealed class DuplicatePhoneException : RideBookingException
{
    /// <summary>Creates the exception.</summary>
    public DuplicatePhoneException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public DuplicatePhoneException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public DuplicatePhoneException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
