namespace RideBooking.Data;

/// <summary>Another user already has this phone number.</summary>
public sealed class DuplicatePhoneException : RideBookingException
{
    /// <summary>Creates the exception.</summary>
    public DuplicatePhoneException()
    {
        Conflict = RideBookingConflict.DuplicatePhone;
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public DuplicatePhoneException(string message)
        : base(message)
    {
        Conflict = RideBookingConflict.DuplicatePhone;
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public DuplicatePhoneException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Conflict = RideBookingConflict.DuplicatePhone;
    }
}
