namespace RideBooking.Data;

/// <summary>A driver's place in the earnings ranking.</summary>
/// <param name="DriverId">The driver.</param>
/// <param name="Earnings">The sum of the fares of the driver's completed rides.</param>
/// <param name="Rank">The rank as SQL's <c>RANK()</c> gives it: ties share a rank and leave a gap after them.</param>
public sealed record RankedDriver(long DriverId, decimal Earnings, long Rank);
