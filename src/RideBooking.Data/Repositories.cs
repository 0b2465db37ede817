namespace RideBooking.Data;

/// <summary>Creates and reads users.</summary>
public interface IUserRepository
{
    /// <summary>
    /// Creates a user. The phone number is unique over all shards: it is claimed on its home shard (chosen from the
    /// phone's digits) in the same transaction as the user when the user lands on that shard, and just before it otherwise.
    /// </summary>
    /// <param name="name">The display name: 1 to 100 characters, not only white space.</param>
    /// <param name="phone">
    /// The phone number: 1 to 20 characters, not only white space, unique across users as the database compares text
    /// (case, accents, character width and trailing spaces are ignored).
    /// </param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The stored user.</returns>
    /// <exception cref="ArgumentException">A malformed name or phone.</exception>
    /// <exception cref="DuplicatePhoneException">Another user already has <paramref name="phone"/> (on any shard).</exception>
    /// <exception cref="RideBookingInfrastructureException">
    /// The recovery pass gave this creation up before its user was written (the process stalled longer than
    /// <see cref="RideBookingOptions.RecoveryGracePeriod"/> between its two steps); nothing is stored, and trying again is safe.
    /// </exception>
    Task<User> CreateAsync(string name, string phone, CancellationToken ct = default);

    /// <summary>Reads a user by id.</summary>
    /// <param name="userId">The user's id.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The user, or <see langword="null"/> when there is none with that id.</returns>
    Task<User?> GetAsync(long userId, CancellationToken ct = default);

    /// <summary>
    /// Reads the user who has a phone number (sign-in by phone): the phone's claim on its home shard names the user, who is
    /// then read on its own shard; with one shard, one read.
    /// </summary>
    /// <param name="phone">The phone number, compared as the database compares text (case, accents, width and trailing spaces ignored).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The user, or <see langword="null"/> when no user has that phone (or its creation has not finished).</returns>
    /// <exception cref="ArgumentException">A malformed phone (as for <see cref="CreateAsync"/>).</exception>
    Task<User?> GetByPhoneAsync(string phone, CancellationToken cancellationToken = default);
}

/// <summary>Creates and reads drivers.</summary>
public interface IDriverRepository
{
    /// <summary>Creates an available driver.</summary>
    /// <param name="name">The display name: 1 to 100 characters, not only white space.</param>
    /// <param name="vehicleNumber">The vehicle's registration number: 1 to 20 characters, not only white space.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The stored driver.</returns>
    /// <exception cref="ArgumentException">A malformed name or vehicle number.</exception>
    Task<Driver> CreateAsync(string name, string vehicleNumber, CancellationToken ct = default);

    /// <summary>Reads a driver by id.</summary>
    /// <param name="driverId">The driver's id.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The driver, or <see langword="null"/> when there is none with that id.</returns>
    Task<Driver?> GetAsync(long driverId, CancellationToken ct = default);

    /// <summary>Reads available drivers, in id order.</summary>
    /// <param name="limit">The most drivers to return: 1 to 1000.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>Up to <paramref name="limit"/> drivers that have no active ride.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is outside 1 to 1000.</exception>
    Task<IReadOnlyList<Driver>> GetAvailableAsync(int limit, CancellationToken ct = default);
}

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

/// <summary>Records payments for completed rides, idempotently by the provider's transaction id.</summary>
public interface IPaymentRepository
{
    /// <summary>
    /// Records a <see cref="PaymentStatus.Pending"/> payment for a completed ride. Safe to call again
    /// with the same arguments: a replay returns the stored payment with
    /// <see cref="PaymentResult.AlreadyRecorded"/> set and stores nothing new.
    /// </summary>
    /// <param name="rideId">The completed ride being paid.</param>
    /// <param name="transactionId">The provider's transaction id: 1 to 100 characters, no leading or trailing white space.</param>
    /// <param name="amount">The amount: 0 to 99,999,999.99 with at most two decimals.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The stored payment and whether it had been recorded before.</returns>
    /// <exception cref="ArgumentException">A malformed transaction id or amount.</exception>
    /// <exception cref="EntityNotFoundException">The ride does not exist.</exception>
    /// <exception cref="InvalidRideStateException">The ride is not completed.</exception>
    /// <exception cref="PaymentConflictException">
    /// The transaction id is stored with another ride or amount, or the ride is already paid under another transaction id.
    /// </exception>
    Task<PaymentResult> RecordAsync(long rideId, string transactionId, decimal amount, CancellationToken ct = default);

    /// <summary>
    /// Settles a pending payment as <see cref="PaymentStatus.Succeeded"/> or <see cref="PaymentStatus.Failed"/>.
    /// Setting the status the payment already has is a no-op.
    /// </summary>
    /// <param name="transactionId">The provider's transaction id.</param>
    /// <param name="status"><see cref="PaymentStatus.Succeeded"/> or <see cref="PaymentStatus.Failed"/>.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The stored payment after the change.</returns>
    /// <exception cref="ArgumentException">A malformed transaction id, or a status other than Succeeded or Failed.</exception>
    /// <exception cref="EntityNotFoundException">No payment has this transaction id.</exception>
    /// <exception cref="PaymentConflictException">The payment already has the other final status.</exception>
    Task<Payment> SetStatusAsync(string transactionId, PaymentStatus status, CancellationToken ct = default);

    /// <summary>Reads a payment by the provider's transaction id.</summary>
    /// <param name="transactionId">The provider's transaction id.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The payment, or <see langword="null"/> when there is none.</returns>
    /// <exception cref="ArgumentException">A malformed transaction id.</exception>
    Task<Payment?> GetByTransactionIdAsync(string transactionId, CancellationToken ct = default);
}

/// <summary>The ride lifecycle: book, accept, complete, cancel. Every operation is one transaction, retried on deadlock.</summary>
public interface IRideBookingService
{
    /// <summary>
    /// Books a ride: holds the driver and stores the ride as <see cref="RideStatus.Requested"/>, in one transaction.
    /// When several callers race for one driver, exactly one wins.
    /// </summary>
    /// <param name="userId">The booking user; must exist and have no active ride.</param>
    /// <param name="driverId">The driver; must exist and be available.</param>
    /// <param name="fare">The fare: 0 to 99,999,999.99 with at most two decimals.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The stored ride.</returns>
    /// <exception cref="ArgumentException">A malformed id or fare.</exception>
    /// <exception cref="EntityNotFoundException">The user or the driver does not exist.</exception>
    /// <exception cref="DriverUnavailableException">The driver is held by another active ride.</exception>
    /// <exception cref="ActiveRideExistsException">The user already has an active ride.</exception>
    Task<Ride> BookAsync(long userId, long driverId, decimal fare, CancellationToken ct = default);

    /// <summary>The assigned driver accepts a requested ride.</summary>
    /// <param name="rideId">The ride.</param>
    /// <param name="driverId">The driver accepting; must be the ride's driver.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The ride, now <see cref="RideStatus.Accepted"/>.</returns>
    /// <exception cref="EntityNotFoundException">The ride does not exist.</exception>
    /// <exception cref="InvalidRideStateException">The ride is not requested (accepting twice included), or belongs to another driver.</exception>
    Task<Ride> AcceptAsync(long rideId, long driverId, CancellationToken ct = default);

    /// <summary>Completes an accepted ride: frees the driver and adds the fare to the driver's earnings.</summary>
    /// <param name="rideId">The ride.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The ride, now <see cref="RideStatus.Completed"/>.</returns>
    /// <exception cref="EntityNotFoundException">The ride does not exist.</exception>
    /// <exception cref="InvalidRideStateException">The ride is not accepted (completing twice included).</exception>
    Task<Ride> CompleteAsync(long rideId, CancellationToken ct = default);

    /// <summary>Cancels a requested or accepted ride and frees the driver.</summary>
    /// <param name="rideId">The ride.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The ride, now <see cref="RideStatus.Cancelled"/>.</returns>
    /// <exception cref="EntityNotFoundException">The ride does not exist.</exception>
    /// <exception cref="InvalidRideStateException">The ride is completed or already cancelled.</exception>
    Task<Ride> CancelAsync(long rideId, CancellationToken ct = default);
}

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
