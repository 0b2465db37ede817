using MySqlConnector;

namespace RideBooking.Data.Internal;

internal sealed class RideBookingService(TransactionRunner runner, ShardResolver shards, IdGenerator ids, TimeProvider time, RideBookingMetrics metrics) : IRideBookingService
{
    /// <summary>
    /// First round trip (with START TRANSACTION): take the driver. The conditional UPDATE takes the
    /// driver's row lock and matches for exactly one concurrent caller; it changes the only column it
    /// filters on, so its count is the same whether the connection reports found or affected rows.
    /// </summary>
    private const string TakeDriver = "UPDATE drivers SET available = FALSE WHERE id = @DriverId AND available = TRUE";

    /// <summary>
    /// Second round trip (with COMMIT): insert the ride. The database refuses an unknown user (foreign
    /// key) and a second active ride of the user or the driver (UNIQUE generated columns).
    /// </summary>
    private const string InsertRide = """
        INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at)
        VALUES (@RideId, @UserId, @DriverId, 'REQUESTED', @Fare, @Now, @Now)
        """;

    /// <summary>For a caller that did not get the driver: does the driver exist at all.</summary>
    private const string DriverExists = "SELECT EXISTS (SELECT 1 FROM drivers WHERE id = @DriverId)";

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

        // A ride lives with its user: its id carries the user's logical shard, so every later call finds it there.
        var logicalShard = shards.LogicalShardOf(userId);
        var shard = shards.PhysicalShardOfLogical(logicalShard);
        var driverShard = shards.PhysicalShardOf(driverId);
        if (shard != driverShard)
        {
            throw CrossShard($"User {userId} lives on physical shard {shard} and driver {driverId} on physical shard {driverShard}: booking across shards");
        }

        // The ride id is fixed before the first attempt, so a replay after an unknown commit finds
        // the ride it may already have written instead of booking a second one.
        var now = time.UtcNow();
        var ride = new Ride(ids.Next(logicalShard), userId, driverId, RideStatus.Requested, fare, now, now);
        var result = await runner.RunAsync("BookRide", shard, transactional: true, async (unit, token) =>
        {
            // Only a ride with everything this call wrote is its own: another process may have used the same id.
            if (unit.AfterUnknownCommit && await unit.CreateCommand(RideRepository.RideById).With("@Id", ride.Id).ReadSingleOrDefaultAsync(Rows.Ride, token).ConfigureAwait(false) is { } stored
                && stored.UserId == userId && stored.DriverId == driverId && stored.Fare == fare && stored.CreatedAt == now)
            {
                return stored;
            }

            var taken = await unit.CreateCommand(TakeDriver).With("@DriverId", driverId).ExecuteAsync(token).ConfigureAwait(false);
            if (taken != 1)
            {
                // Lost: end the transaction and learn why in the same round trip.
                if (await unit.RollBackThenReadInt64Async(unit.CreateCommand(DriverExists).With("@DriverId", driverId), token).ConfigureAwait(false) != 1)
                {
                    throw new EntityNotFoundException($"Driver {driverId} does not exist.");
                }

                metrics.Conflict("BookRide", "driver_unavailable");
                throw new DriverUnavailableException($"Driver {driverId} is not available.");
            }

            while (true)
            {
                try
                {
                    await unit.ExecuteAndCommitAsync(
                        unit.CreateCommand(InsertRide).With("@RideId", ride.Id).With("@UserId", userId).With("@DriverId", driverId).With("@Fare", fare).With("@Now", now),
                        token).ConfigureAwait(false);
                    return ride;
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
                catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.NoReferencedRow2)
                {
                    throw new EntityNotFoundException($"User {userId} does not exist.", ex);
                }
                catch (MySqlException ex) when (ex.IsIdCollision())
                {
                    // Only the INSERT failed (the batch stopped before COMMIT): the driver is still held in this transaction.
                    metrics.IdCollision("BookRide");
                    ride = ride with { Id = ids.Next(logicalShard) };
                }
            }
        }, ct).ConfigureAwait(false);
        metrics.Booked();
        return result;
    }

    public Task<Ride> AcceptAsync(long rideId, long driverId, CancellationToken ct = default)
    {
        Guard.Id(driverId, nameof(driverId));
        return TransitionAsync("AcceptRide", rideId, RideStatus.Accepted, AcceptRide, touchesDriver: false, ride =>
            ride.Status != RideStatus.Requested ? $"Ride {ride.Id} is {Describe(ride.Status)}; only a requested ride can be accepted."
            : ride.DriverId != driverId ? $"Ride {ride.Id} is assigned to another driver."
            : null, ct);
    }

    public Task<Ride> CompleteAsync(long rideId, CancellationToken ct = default) =>
        TransitionAsync("CompleteRide", rideId, RideStatus.Completed, CompleteRide, touchesDriver: true, ride =>
            ride.Status != RideStatus.Accepted ? $"Ride {ride.Id} is {Describe(ride.Status)}; only an accepted ride can be completed." : null, ct);

    public Task<Ride> CancelAsync(long rideId, CancellationToken ct = default) =>
        TransitionAsync("CancelRide", rideId, RideStatus.Cancelled, CancelRide, touchesDriver: true, ride =>
            ride.Status is not (RideStatus.Requested or RideStatus.Accepted) ? $"Ride {ride.Id} is {Describe(ride.Status)}; only an active ride can be cancelled." : null, ct);

    /// <summary>Locks the ride row, checks the transition against the locked state, then applies it (two round trips).</summary>
    private async Task<Ride> TransitionAsync(string operation, long rideId, RideStatus target, string applySql, bool touchesDriver, Func<Ride, string?> refusal, CancellationToken ct)
    {
        Guard.Id(rideId, nameof(rideId));
        var shard = shards.PhysicalShardOf(rideId);
        var now = time.UtcNow();
        return await runner.RunAsync(operation, shard, transactional: true, async (unit, token) =>
        {
            var ride = await unit.CreateCommand(LockRide).With("@Id", rideId).ReadSingleOrDefaultAsync(Rows.Ride, token).ConfigureAwait(false)
                ?? throw new EntityNotFoundException($"Ride {rideId} does not exist.");

            if (touchesDriver && shards.PhysicalShardOf(ride.DriverId) is var driverShard && driverShard != shard)
            {
                // The runner rolls back: nothing was written.
                throw CrossShard($"Ride {rideId} lives on physical shard {shard} and its driver {ride.DriverId} on physical shard {driverShard}: changing it");
            }

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

            // The change and COMMIT in one round trip: lock, then apply and commit.
            await unit.ExecuteAndCommitAsync(
                unit.CreateCommand(applySql).With("@Id", ride.Id).With("@DriverId", ride.DriverId).With("@Fare", ride.Fare).With("@Now", now),
                token).ConfigureAwait(false);
            return ride with { Status = target, UpdatedAt = now };
        }, ct).ConfigureAwait(false);
    }

    private static NotSupportedException CrossShard(string what) =>
        new($"{what} is a cross-shard operation, which this version does not support yet (see \"Sharding and replicas\" in the README). Nothing was written.");

    private static string Describe(RideStatus status) => status switch
    {
        RideStatus.Requested => "requested",
        RideStatus.Accepted => "accepted",
        RideStatus.Completed => "completed",
        _ => "cancelled",
    };

}
