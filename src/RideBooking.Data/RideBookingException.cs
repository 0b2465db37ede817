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

    /// <summary>
    /// Gets which business rule refused the operation, or <see cref="RideBookingConflict.None"/> when the error is not a
    /// conflict (a missing entity). Each subclass sets its own kind; compare this value rather than the message.
    /// </summary>
    public RideBookingConflict Conflict { get; init; }
}
