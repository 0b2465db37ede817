namespace RideBooking.Data;

/// <summary>
/// The ride is not in a state that allows the transition (including a replay of a transition
/// that already happened, such as completing a completed ride): <see cref="RideBookingConflict.InvalidRideState"/>; or the
/// caller is not the ride's driver: <see cref="RideBookingConflict.NotRideDriver"/>.
/// </summary>
public sealed class InvalidRideStateException : RideBookingException
{
    /// <summary>Creates the exception.</summary>
    public InvalidRideStateException()
    {
        Conflict = RideBookingConflict.InvalidRideState;
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public InvalidRideStateException(string message)
        : base(message)
    {
        Conflict = RideBookingConflict.InvalidRideState;
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public InvalidRideStateException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Conflict = RideBookingConflict.InvalidRideState;
    }
}
