using MySqlConnector;

namespace RideBooking.Data.Internal;

internal sealed class RideBookingService(TransactionRunner runner, IdGenerator ids, TimeProvider time, RideBookingMetrics metrics) : IRideBookingService
{
    /// <summary>
    /// Holds the driver and inserts the ride in one batch, sent in the same round trip that starts the
    /// transaction; COMMIT is the second and last round trip. The conditional UPDATE takes the
    /// driver's row lock and succeeds for exactly one concurrent caller; the INSERT runs only when it
    /// did and only for an existing user; the UNIQUE index on rides.active_user_id refuses a second
    /// active ride of the user. ROW_COUNT() of an UPDATE that changes the only column it filters on is
    /// the same whether the connection reports found or affected rows.
    /// </summary>
    private const string BookRide = """
        UPDATE drivers SET available = FALSE WHERE id = @DriverId AND available = TRUE;
        SET @rb_driver_taken = ROW_COUNT();
        INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at)
        SELECT @RideId, u.id, @DriverId, 'REQUESTED', @Fare, @Now, @Now
        FROM users u WHERE u.id = @UserId AND @rb_driver_taken = 1;
        SET @rb_ride_inserted = ROW_COUNT();
        SELECT @rb_driver_taken AS DriverTaken, @rb_ride_inserted AS RideInserted,
               EXISTS (SELECT 1 FROM drivers WHERE id = @DriverId) AS DriverExists;
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

            BookingOutcome outcome;
            try
            {
                outcome = (await unit.CreateCommand(BookRide)
                    .With("@RideId", ride.Id).With("@UserId", userId).With("@DriverId", driverId).With("@Fare", fare).With("@Now", now)
                    .ReadSingleOrDefaultAsync(r => new BookingOutcome(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2)), token).ConfigureAwait(false))!;
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

            if (outcome.DriverTaken != 1)
            {
                if (outcome.DriverExists != 1)
                {
                    throw new EntityNotFoundException($"Driver {driverId} does not exist.");
                }

                metrics.Conflict("BookRide", "driver_unavailable");
                throw new DriverUnavailableException($"Driver {driverId} is not available.");
            }

            if (outcome.RideInserted != 1)
            {
                throw new EntityNotFoundException($"User {userId} does not exist.");
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

    /// <summary>What the booking batch reports: 1 when the driver was taken, 1 when the ride was inserted, 1 when the driver exists.</summary>
    private sealed record BookingOutcome(long DriverTaken, long RideInserted, long DriverExists);
}
