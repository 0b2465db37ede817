namespace RideBooking.Data;

/// <summary>Rebuilds the per-driver earnings rollup from the rides table, for adopting the schema on existing data or repairing it.</summary>
public interface IDriverEarningsBackfill
{
    /// <summary>
    /// Recomputes every driver's total of completed fares from <c>rides</c> and replaces the rollup
    /// rows, one short transaction per batch of drivers, so live bookings are never blocked for long.
    /// Safe to run while rides are being completed, and to run again.
    /// </summary>
    /// <param name="driversPerBatch">How many drivers each transaction rebuilds: 1 to 10,000. The default is 500.</param>
    /// <param name="ct">Cancels the operation between batches; batches already committed stay.</param>
    /// <returns>How many drivers now have earnings and how many batches it took.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="driversPerBatch"/> is outside 1 to 10,000.</exception>
    Task<EarningsBackfillResult> RebuildAsync(int driversPerBatch = 500, CancellationToken ct = default);
}
