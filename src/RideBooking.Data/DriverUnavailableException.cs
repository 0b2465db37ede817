namespace RideBooking.Data;

/// <summary>The driver cannot be booked: it is already held by another active ride.</summary>
public sealed class DriverUnavailableException : RideBookingException
{
    /// <summary>Creates the exception.</summary>
    public DriverUnavailableException()
    {
        Conflict = RideBookingConflict.DriverUnavailable;
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public DriverUnavailableException(string message)
        : base(message)
    {
        Conflict = RideBookingConflict.DriverUnavailable;
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public DriverUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Conflict = RideBookingConflict.DriverUnavailable;
    }
}
