using MySqlConnector;

namespace RideBooking.Data.Internal;

internal sealed class RideBookingService(TransactionRunner runner, IdGenerator ids, TimeProvider time, RideBookingMetrics metrics) : IRideBookingService
{
    /// <summary>
    /// The whole booking in one round trip. The conditional UPDATE takes the driver's row lock and
    /// matches for exactly one concurrent caller, and only for an existing user; the INSERT runs only
    /// when the UPDATE matched (<c>ROW_COUNT()</c> of the previous statement). The database refuses a
    /// second active ride of the user or the driver (UNIQUE generated columns): that error stops the
    /// batch before COMMIT. Both statements change exactly the rows they match, so the affected count
    /// (2 for a booking, 0 for a loser) is the same whether the connection reports found or affected rows.
    /// </summary>
    private const string BookRide = """
        UPDATE drivers SET available = FALSE
        WHERE id = @DriverId AND available = TRUE AND EXISTS (SELECT 1 FROM users WHERE id = @UserId);
        INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at)
        SELECT @RideId, @UserId, @DriverId, 'REQUESTED', @Fare, @Now, @Now FROM DUAL WHERE ROW_COUNT() = 1
        """;

    /// <summary>For a caller that did not get the driver: why not.</summary>
    private const string WhyNotBooked = """
        SELECT EXISTS (SELECT 1 FROM users WHERE id = @UserId), (SELECT available FROM drivers WHERE id = @DriverId)
        """;

    private const string LockRide = $"{RideRepository.RideById} FOR UPDATE";

    private const string AcceptRide = "UPDATE rides SET status = 'ACCEPTED', updated_at = @Now WHERE id = @Id";

    private const string CompleteRide = """
        UPDATE rides SET status = 'COMPLETED', updated_at = @Now WHERE id = @Id;
        UPDATE drivers SET available = TRUE WHERE id = @DriverId;
        INSERT INTO driver_earnings (driver_id, total_earnings, completed_rides, updated_at)
        VALUES (@DriverId, @Fare, 1, @Now)
        ON DUPLICATE KEY UPDATE total_earnings = total_earnings + @Fare, completed_rides = completed_rides + 1, updated_at = @Now;
        """;

    private const string CancelRide = """
        UPDATE rides SET status = 'CANCELLED', updated_at = @Now WHERE id = @Id;
        UPDATE drivers SET available = TRUE WHERE id = @DriverId;
        """;

    public async Task<Ride> BookAsync(long userId, long driverId, decimal fare, CancellationToken ct = default)
    {
        Guard.Id(userId, nameof(userId));
        Guard.Id(driverId, nameof(driverId));
        Guard.Money(fare, nameof(fare));

        // The ride id is fixed before the first attempt, so a replay after an unknown commit finds
        // the ride it may already have written instead of booking a second one.
        var now = time.UtcNow();
        var ride = new Ride(ids.Next(), userId, driverId, RideStatus.Requested, fare, now, now);
        var result = await runner.RunAsync("BookRide", transactional: true, async (unit, token) =>
        {
            if (unit.AfterUnknownCommit && await unit.CreateCommand(RideRepository.RideById).With("@Id", ride.Id).ReadSingleOrDefaultAsync(Rows.Ride, token).ConfigureAwait(false) is { } stored)
            {
                return stored;
            }

            int affected;
            try
            {
                affected = await unit.ExecuteAndCommitAsync(
                    unit.CreateCommand(BookRide).With("@RideId", ride.Id).With("@UserId", userId).With("@DriverId", driverId).With("@Fare", fare).With("@Now", now),
                    token).ConfigureAwait(false);
            }
            catch (MySqlException ex) when (ex.IsDuplicateKey("uq_rides_active_user"))
            {
                metrics.Conflict("BookRide", "active_ride_exists");
                throw new ActiveRideExistsException($"User {userId} already has an active ride.", ex);
            }
            catch (MySqlException ex) when (ex.IsDuplicateKey("uq_rides_active_driver"))
            {
                metrics.Conflict("BookRide", "driver_unavailable");
                throw new DriverUnavailableException($"Driver {driverId} already has an active ride.", ex);
            }

            if (affected != 2)
            {
                // Nothing was written (the transaction committed empty): find out why, in autocommit.
                var (userExists, driverAvailable) = (await unit.CreateCommand(WhyNotBooked).With("@UserId", userId).With("@DriverId", driverId)
                    .ReadSingleOrDefaultAsync(r => Tuple.Create(r.GetInt64(0) == 1, r.IsDBNull(1) ? (bool?)null : r.GetBoolean(1)), token).ConfigureAwait(false))!;
                if (!userExists)
                {
                    throw new EntityNotFoundException($"User {userId} does not exist.");
                }

                if (driverAvailable is null)
                {
                    throw new EntityNotFoundException($"Driver {driverId} does not exist.");
                }

                metrics.Conflict("BookRide", "driver_unavailable");
                throw new DriverUnavailableException($"Driver {driverId} is not available.");
            }

            return ride;
        }, ct).ConfigureAwait(false);
        metrics.Booked();
        return result;
    }

    public Task<Ride> AcceptAsync(long rideId, long driverId, CancellationToken ct = default)
    {
        Guard.Id(driverId, nameof(driverId));
        return TransitionAsync("AcceptRide", rideId, RideStatus.Accepted, AcceptRide, ride =>
            ride.Status != RideStatus.Requested ? $"Ride {ride.Id} is {Describe(ride.Status)}; only a requested ride can be accepted."
            : ride.DriverId != driverId ? $"Ride {ride.Id} is assigned to another driver."
            : null, ct);
    }

    public Task<Ride> CompleteAsync(long rideId, CancellationToken ct = default) =>
        TransitionAsync("CompleteRide", rideId, RideStatus.Completed, CompleteRide, ride =>
            ride.Status != RideStatus.Accepted ? $"Ride {ride.Id} is {Describe(ride.Status)}; only an accepted ride can be completed." : null, ct);

    public Task<Ride> CancelAsync(long rideId, CancellationToken ct = default) =>
        TransitionAsync("CancelRide", rideId, RideStatus.Cancelled, CancelRide, ride =>
            ride.Status is not (RideStatus.Requested or RideStatus.Accepted) ? $"Ride {ride.Id} is {Describe(ride.Status)}; only an active ride can be cancelled." : null, ct);

    /// <summary>Locks the ride row, checks the transition against the locked state, then applies it.</summary>
    private async Task<Ride> TransitionAsync(string operation, long rideId, RideStatus target, string applySql, Func<Ride, string?> refusal, CancellationToken ct)
    {
        Guard.Id(rideId, nameof(rideId));
        var now = time.UtcNow();
        return await runner.RunAsync(operation, transactional: true, async (unit, token) =>
        {
            var ride = await unit.CreateCommand(LockRide).With("@Id", rideId).ReadSingleOrDefaultAsync(Rows.Ride, token).ConfigureAwait(false)
                ?? throw new EntityNotFoundException($"Ride {rideId} does not exist.");

            if (unit.AfterUnknownCommit && ride.Status == target)
            {
                // The earlier attempt's commit went through.
                return ride;
            }

            if (refusal(ride) is { } reason)
            {
                metrics.Conflict(operation, "invalid_state");
                throw new InvalidRideStateException(reason);
            }

            await unit.CreateCommand(applySql).With("@Id", ride.Id).With("@DriverId", ride.DriverId).With("@Fare", ride.Fare).With("@Now", now)
                .ExecuteAsync(token).ConfigureAwait(false);
            return ride with { Status = target, UpdatedAt = now };
        }, ct).ConfigureAwait(false);
    }

    private static string Describe(RideStatus status) => status switch
    {
        RideStatus.Requested => "requested",
        RideStatus.Accepted => "accepted",
        RideStatus.Completed => "completed",
        _ => "cancelled",
    };

}
