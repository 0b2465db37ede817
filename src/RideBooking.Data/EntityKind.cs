namespace RideBooking.Data;

/// <summary>The kind of entity an <see cref="EntityNotFoundException"/> looked for.</summary>
public enum EntityKind
{
    /// <summary>Not stated (the exception was created without a kind).</summary>
    Unspecified = 0,

    /// <summary>A user (rider).</summary>
    User = 1,

    /// <summary>A driver.</summary>
    Driver = 2,

    /// <summary>A ride.</summary>
    Ride = 3,

    /// <summary>A payment.</summary>
    Payment = 4,
}
