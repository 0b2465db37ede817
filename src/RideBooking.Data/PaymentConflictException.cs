namespace RideBooking.Data;

/// <summary>
/// The payment contradicts one already stored: the same transaction id with another ride or
/// amount, a ride that already has a pending or succeeded payment under another transaction id, or a change of a final status;
/// <see cref="RideBookingException.Conflict"/> says which (<see cref="RideBookingConflict.TransactionIdMismatch"/>,
/// <see cref="RideBookingConflict.RideAlreadyPaid"/> or <see cref="RideBookingConflict.PaymentStatusFinal"/>).
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
