namespace RideBooking.Data;

/// <summary>The states of a ride.</summary>
/// <remarks>
/// <see cref="Requested"/> → <see cref="Accepted"/> → <see cref="Completed"/>;
/// <see cref="Requested"/> or <see cref="Accepted"/> → <see cref="Cancelled"/>.
/// Requested and Accepted rides are <em>active</em>: they hold their driver.
/// </remarks>
public enum RideStatus
{
    /// <summary>Booked by the user; the driver is held for this ride.</summary>
    Requested,

    /// <summary>Accepted by the assigned driver.</summary>
    Accepted,

    /// <summary>Finished; the fare counts toward the driver's earnings and the driver is free again.</summary>
    Completed,

    /// <summary>Cancelled before completion; the driver is free again.</summary>
    Cancelled,
}
