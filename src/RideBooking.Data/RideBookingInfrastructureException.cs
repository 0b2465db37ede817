namespace RideBooking.Data;

/// <summary>
/// Base of the errors that come from the infrastructure (a server that does not answer, a connection that failed)
/// rather than from a business rule. Business errors derive from <see cref="RideBookingException"/> instead.
/// Messages never contain a connection string or a password.
/// </summary>
public class RideBookingInfrastructureException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="RideBookingInfrastructureException"/> class.</summary>
    public RideBookingInfrastructureException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RideBookingInfrastructureException"/> class.</summary>
    /// <param name="message">What happened.</param>
    public RideBookingInfrastructureException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RideBookingInfrastructureException"/> class.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The driver's error.</param>
    public RideBookingInfrastructureException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the library operation that failed (for example <c>GetTopDrivers</c>).</summary>
    public string? Operation { get; init; }

    /// <summary>Gets a value indicating whether trying again later can succeed.</summary>
    public bool IsTransient { get; init; }

    /// <summary>
    /// Gets the MySQL/MariaDB error number behind the failure (for example 1205 for a lock wait timeout, 1213 for a deadlock,
    /// or a client-side number of MySqlConnector such as 1042 when the server could not be reached); <see langword="null"/>
    /// when the failure was not a database error (a socket or I/O error).
    /// </summary>
    public int? ErrorNumber { get; init; }
}
