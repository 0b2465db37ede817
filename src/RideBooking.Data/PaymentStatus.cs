namespace RideBooking.Data;

/// <summary>The states of a payment.</summary>
public enum PaymentStatus
{
    /// <summary>Recorded, not yet settled by the payment provider.</summary>
    Pending,

    /// <summary>Settled successfully. Final.</summary>
    Succeeded,

    /// <summary>Settlement failed. Final.</summary>
    Failed,
}
