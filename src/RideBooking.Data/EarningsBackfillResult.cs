namespace RideBooking.Data;

/// <summary>The outcome of <see cref="IDriverEarningsBackfill.RebuildAsync"/>.</summary>
/// <param name="DriversWithEarnings">Drivers with at least one completed ride, now in the rollup.</param>
/// <param name="Batches">Transactions it took.</param>
public sealed record EarningsBackfillResult(long DriversWithEarnings, int Batches);
