namespace RideBooking.Data;

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
