namespace RideBooking.Data;

/// <summary>
/// Every connection of the pool stayed in use for the whole connect timeout (<c>Connection Timeout</c> of the connection
/// string, 15 seconds by default): the operation never started and nothing of it was stored. Transient: raise
/// <c>Maximum Pool Size</c>, or send less concurrent work.
/// </summary>
public sealed class ConnectionPoolTimeoutException : RideBookingInfrastructureException
{
    /// <summary>Initializes a new instance of the <see cref="ConnectionPoolTimeoutException"/> class.</summary>
    public ConnectionPoolTimeoutException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ConnectionPoolTimeoutException"/> class.</summary>
    /// <param name="message">What happened.</param>
    public ConnectionPoolTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ConnectionPoolTimeoutException"/> class.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The driver's error.</param>
    public ConnectionPoolTimeoutException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
