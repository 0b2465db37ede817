namespace RideBooking.Data;

/// <summary>The user already has an active (requested or accepted) ride.</summary>
public sealed class ActiveRideExistsException : RideBookingException
{
    /// <summary>Creates the exception.</summary>
    public ActiveRideExistsException()
    {
        Conflict = RideBookingConflict.ActiveRideExists;
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public ActiveRideExistsException(string message)
        : base(message)
    {
        Conflict = RideBookingConflict.ActiveRideExists;
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public ActiveRideExistsException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Conflict = RideBookingConflict.ActiveRideExists;
    }
}
