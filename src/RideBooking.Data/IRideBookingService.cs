namespace RideBooking.Data;

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
#pragma warning disable RS0026 // Both overloads end in an optional token by contract; the key's string argument keeps calls unambiguous.
    Task<Ride> BookAsync(long userId, long driverId, decimal fare, CancellationToken ct = default);

    /// <summary>
    /// Books a ride, as <see cref="BookAsync(long, long, decimal, CancellationToken)"/>, under the caller's idempotency key: a
    /// repeat with the same key (for the same user) returns the ride the first call booked, in its current state, instead of
    /// booking again, the way a payment provider treats an idempotency key. Use it to retry after a timeout or a
    /// <see cref="CommitOutcomeUnknownException"/>. The key is stored with the ride, in the same transaction.
    /// </summary>
    /// <param name="userId">The booking user; must exist and have no active ride (other than the one this key booked).</param>
    /// <param name="driverId">The driver; must exist and be available.</param>
    /// <param name="fare">The fare: 0 to 99,999,999.99 with at most two decimals.</param>
    /// <param name="idempotencyKey">The caller's key, unique per user: 1 to 100 characters, compared byte for byte, no white space at either end.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The stored ride: the first call's ride when the key was used before.</returns>
    /// <exception cref="ArgumentException">A malformed id, fare or key.</exception>
    /// <exception cref="IdempotencyKeyConflictException">The key was used before for this user with another driver or fare.</exception>
    /// <exception cref="EntityNotFoundException">The user or the driver does not exist.</exception>
    /// <exception cref="DriverUnavailableException">The driver is held by another active ride.</exception>
    /// <exception cref="ActiveRideExistsException">The user already has an active ride.</exception>
    Task<Ride> BookAsync(long userId, long driverId, decimal fare, string idempotencyKey, CancellationToken ct = default);
#pragma warning restore RS0026

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
