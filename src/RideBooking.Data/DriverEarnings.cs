namespace RideBooking.Data;

/// <summary>The total of a driver's completed fares.</summary>
/// <param name="DriverId">The driver.</param>
/// <param name="TotalEarnings">The sum of the fares of the driver's completed rides.</param>
public sealed record DriverEarnings(long DriverId, decimal TotalEarnings);
