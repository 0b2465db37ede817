namespace RideBooking.Data;

/// <summary>Reads rides and the earnings they produce.</summary>
public interface IRideRepository
{
    /// <summary>Reads a ride by id.</summary>
    /// <param name="rideId">The ride's id.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The ride, or <see langword="null"/> when there is none with that id.</returns>
    Task<Ride?> GetAsync(long rideId, CancellationToken ct = default);

    /// <summary>Reads a user's most recent rides, newest first; rides booked at the same instant are ordered by id, highest first.</summary>
    /// <param name="userId">The user's id. An unknown user has no rides.</param>
    /// <param name="limit">The most rides to return: 1 to 100.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>Up to <paramref name="limit"/> rides.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is outside 1 to 100.</exception>
    Task<IReadOnlyList<Ride>> GetLatestForUserAsync(long userId, int limit, CancellationToken ct = default);

    /// <summary>Reads, for every driver with at least one completed ride, the sum of the completed fares, in driver id order.</summary>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>One entry per driver with completed rides.</returns>
    Task<IReadOnlyList<DriverEarnings>> GetDriverEarningsAsync(CancellationToken ct = default);

    /// <summary>
    /// Ranks drivers by the sum of their completed fares with SQL's <c>RANK()</c> semantics and
    /// returns those ranked <paramref name="top"/> or better.
    /// </summary>
    /// <remarks>
    /// Ties share a rank and are all included, so more than <paramref name="top"/> drivers can be
    /// returned (two drivers tied for 5th both come back for <c>top = 5</c>). Results are ordered by
    /// rank, then driver id. Drivers without a completed ride are not ranked.
    /// </remarks>
    /// <param name="top">The worst rank to include: 1 to 1000.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The ranked drivers.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="top"/> is outside 1 to 1000.</exception>
    Task<IReadOnlyList<RankedDriver>> GetTopDriversAsync(int top, CancellationToken ct = default);
}
