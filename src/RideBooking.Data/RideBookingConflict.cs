namespace RideBooking.Data;

/// <summary>
/// Which business rule refused an operation: the value of <see cref="RideBookingException.Conflict"/>. Each value is
/// raised by one exception type; a host can map the value to a response without parsing messages.
/// </summary>
public enum RideBookingConflict
{
    /// <summary>Not a conflict: a missing entity (<see cref="EntityNotFoundException"/>), or an exception created without a kind.</summary>
    None = 0,

    /// <summary>The driver is held by another active ride (<see cref="DriverUnavailableException"/>).</summary>
    DriverUnavailable = 1,

    /// <summary>The user already has an active ride (<see cref="ActiveRideExistsException"/>).</summary>
    ActiveRideExists = 2,

    /// <summary>Another user already has the phone number (<see cref="DuplicatePhoneException"/>).</summary>
    DuplicatePhone = 3,

    /// <summary>The ride's state does not allow the transition (<see cref="InvalidRideStateException"/>).</summary>
    InvalidRideState = 4,

    /// <summary>The ride is assigned to another driver than the caller (<see cref="InvalidRideStateException"/>).</summary>
    NotRideDriver = 5,

    /// <summary>The transaction id is already recorded for another ride or amount (<see cref="PaymentConflictException"/>).</summary>
    TransactionIdMismatch = 6,

    /// <summary>The ride is already paid under another transaction id (<see cref="PaymentConflictException"/>).</summary>
    RideAlreadyPaid = 7,

    /// <summary>The payment already has the other final status (<see cref="PaymentConflictException"/>).</summary>
    PaymentStatusFinal = 8,
}
