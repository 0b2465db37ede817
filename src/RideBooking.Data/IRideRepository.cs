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

    /// <summary>
    /// Reads one page of a user's rides, newest first (rides booked at the same instant by id, highest first), from the
    /// position a cursor names: keyset paging on (booking time, id), served by the index on
    /// (user_id, created_at DESC, id DESC) whatever the page's depth.
    /// </summary>
    /// <param name="userId">The user's id. An unknown user has no rides.</param>
    /// <param name="limit">The most rides on the page: 1 to 100.</param>
    /// <param name="cursor">
    /// <see langword="null"/> for the first page; otherwise the <see cref="RidePage.NextCursor"/> of the previous page of
    /// the same user.
    /// </param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The page, with the cursor of the next page or <see langword="null"/> after the user's oldest ride.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is outside 1 to 100.</exception>
    /// <exception cref="ArgumentException"><paramref name="cursor"/> is not a cursor this method returned for this user.</exception>
    Task<RidePage> GetPageForUserAsync(long userId, int limit, string? cursor = null, CancellationToken ct = default);

    /// <summary>Reads the user's current ride: the one ride that is <see cref="RideStatus.Requested"/> or <see cref="RideStatus.Accepted"/>.</summary>
    /// <remarks>One index read on the user's shard (the unique index of the one-active-ride rule).</remarks>
    /// <param name="userId">The user's id.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The active ride, or <see langword="null"/> when the user has none (or does not exist).</returns>
    Task<Ride?> GetCurrentForUserAsync(long userId, CancellationToken ct = default);

    /// <summary>Reads the driver's current ride: the one ride that is <see cref="RideStatus.Requested"/> or <see cref="RideStatus.Accepted"/>.</summary>
    /// <remarks>
    /// One round trip to the driver's shard reads the driver's active ride there and the driver's hold. A ride booked
    /// across shards lives on its user's shard: the hold names it and a second read fetches it there.
    /// </remarks>
    /// <param name="driverId">The driver's id.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The active ride, or <see langword="null"/> when the driver has none (or does not exist).</returns>
    Task<Ride?> GetCurrentForDriverAsync(long driverId, CancellationToken ct = default);

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
