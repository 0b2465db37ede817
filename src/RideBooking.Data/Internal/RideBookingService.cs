using MySqlConnector;

namespace RideBooking.Data.Internal;

internal sealed class RideBookingService(TransactionRunner runner, ShardResolver shards, CrossShardSteps crossShard, IdGenerator ids, TimeProvider time, RideBookingMetrics metrics, ICacheInvalidation invalidation) : IRideBookingService
{
    /// <summary>
    /// The commit point of a cross-shard booking, on the user's shard: the decision and the ride in one local
    /// transaction. Recovery inserts ABORTED under the same key for a hold whose ride never came, so a late
    /// booking fails on the primary key instead of storing a ride whose driver was released.
    /// </summary>
    private const string CommitCrossShardRide = """
        INSERT INTO cross_shard_decisions (id, outcome, decided_at) VALUES (@RideId, 'COMMITTED', @Now);
        INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at)
        VALUES (@RideId, @UserId, @DriverId, 'REQUESTED', @Fare, @Now, @Now)
        """;

    private const string CompleteRideAcross = """
        UPDATE rides SET status = 'COMPLETED', updated_at = @Now WHERE id = @Id;
        INSERT INTO cross_shard_outbox (ride_id, kind, driver_id, fare, created_at) VALUES (@Id, 'COMPLETED', @DriverId, @Fare, @Now);
        """;

    private const string CancelRideAcross = """
        UPDATE rides SET status = 'CANCELLED', updated_at = @Now WHERE id = @Id;
        INSERT INTO cross_shard_outbox (ride_id, kind, driver_id, fare, created_at) VALUES (@Id, 'CANCELLED', @DriverId, @Fare, @Now);
        """;


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

    /// <summary>
    /// The ride, locked, and whether it was booked across shards (a decision exists for it): such a ride holds its driver
    /// through a hold row, so it is always released through the outbox, even when a move has since brought its user and
    /// driver onto one physical shard.
    /// </summary>
    private const string LockRideForTransition = $"""
        SELECT {RideRepository.RideColumns}, EXISTS (SELECT 1 FROM cross_shard_decisions d WHERE d.id = rides.id) AS BookedAcross
        FROM rides WHERE id = @Id FOR UPDATE
        """;

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

    public Task<Ride> BookAsync(long userId, long driverId, decimal fare, CancellationToken ct = default) =>
        BookAsync(userId, driverId, fare, key: null, ct);

    public Task<Ride> BookAsync(long userId, long driverId, decimal fare, string idempotencyKey, CancellationToken ct = default)
    {
        Guard.IdempotencyKey(idempotencyKey, nameof(idempotencyKey));
        return BookAsync(userId, driverId, fare, CallerKey.For(CallerKey.BookRide, userId, idempotencyKey, driverId, fare.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)), ct);
    }

    private async Task<Ride> BookAsync(long userId, long driverId, decimal fare, CallerKey? key, CancellationToken ct)
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
            return await BookAcrossShardsAsync(userId, driverId, fare, logicalShard, shard, driverShard, key, ct).ConfigureAwait(false);
        }

        // The ride id is fixed before the first attempt, so a replay after an unknown commit finds
        // the ride it may already have written instead of booking a second one.
        var now = time.UtcNow();
        var ride = new Ride(ids.Next(logicalShard), userId, driverId, RideStatus.Requested, fare, now, now);
        var repeated = false;
        var result = await runner.RunAsync("BookRide", shard, transactional: true, async (unit, token) =>
        {
            // Only a ride with everything this call wrote is its own: another process may have used the same id. A locking
            // read: if the lost session is still committing this very ride, wait for it instead of missing it.
            if (unit.AfterUnknownCommit && await unit.CreateCommand(LockRide).With("@Id", ride.Id).ReadSingleOrDefaultAsync(Rows.Ride, token).ConfigureAwait(false) is { } stored
                && stored.UserId == userId && stored.DriverId == driverId && stored.Fare == fare && stored.CreatedAt == now)
            {
                return stored;
            }

            int taken;
            if (key is null)
            {
                taken = await unit.CreateCommand(TakeDriver).With("@DriverId", driverId).ExecuteAsync(token).ConfigureAwait(false);
            }
            else
            {
                try
                {
                    // The key first, in the same round trip: a concurrent repeat waits on it, then finds this call's ride.
                    taken = await key.Bind(unit.CreateCommand(CallerKey.Insert + ";\n" + TakeDriver), ride.Id, now).With("@DriverId", driverId).ExecuteAsync(token).ConfigureAwait(false) - 1;
                }
                catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
                {
                    var first = key.Resolve(await key.RollBackThenFindAsync(unit, token).ConfigureAwait(false), "another booking");
                    repeated = true;
                    return await unit.CreateCommand(RideRepository.RideById).With("@Id", first).ReadSingleOrDefaultAsync(Rows.Ride, token).ConfigureAwait(false)
                        ?? throw new RideBookingInfrastructureException("The ride of this idempotency key could not be read; try again.") { Operation = "BookRide", IsTransient = true };
                }
            }

            if (taken != 1)
            {
                // Lost: end the transaction and learn why in the same round trip.
                if (await unit.RollBackThenReadInt64Async(unit.CreateCommand(DriverExists).With("@DriverId", driverId), token).ConfigureAwait(false) != 1)
                {
                    throw new EntityNotFoundException($"Driver {driverId} does not exist.") { EntityKind = EntityKind.Driver, EntityId = driverId };
                }

                metrics.Conflict("BookRide", "driver_unavailable");
                throw new DriverUnavailableException($"Driver {driverId} is not available.");
            }

            var repoint = false;
            while (true)
            {
                try
                {
                    var insert = unit.CreateCommand((repoint ? CallerKey.Repoint + ";\n" : string.Empty) + InsertRide)
                        .With("@RideId", ride.Id).With("@UserId", userId).With("@DriverId", driverId).With("@Fare", fare).With("@Now", now);
                    await unit.ExecuteAndCommitAsync(repoint ? key!.Bind(insert, ride.Id, now) : insert, token).ConfigureAwait(false);
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
                    throw new EntityNotFoundException($"User {userId} does not exist.", ex) { EntityKind = EntityKind.User, EntityId = userId };
                }
                catch (MySqlException ex) when (ex.IsIdCollision())
                {
                    // Only the INSERT failed (the batch stopped before COMMIT): the driver is still held in this transaction,
                    // and the key taken in it is pointed at the new id.
                    metrics.IdCollision("BookRide");
                    ride = ride with { Id = ids.Next(logicalShard) };
                    repoint = key is not null;
                }
            }
        }, ct, () => new OutcomeKey(EntityId: ride.Id, IdempotencyKey: key?.Key)).ConfigureAwait(false);
        if (!repeated)
        {
            metrics.Booked();
        }

        await invalidation.DriverChangedAsync(driverId).ConfigureAwait(false);

        return result;
    }

    public Task<Ride> AcceptAsync(long rideId, long driverId, CancellationToken ct = default)
    {
        Guard.Id(driverId, nameof(driverId));
        return TransitionAsync("AcceptRide", rideId, RideStatus.Accepted, AcceptRide, acrossShards: null, ride =>
            ride.Status != RideStatus.Requested ? new Refusal($"Ride {ride.Id} is {Describe(ride.Status)}; only a requested ride can be accepted.", RideBookingConflict.InvalidRideState)
            : ride.DriverId != driverId ? new Refusal($"Ride {ride.Id} is assigned to another driver.", RideBookingConflict.NotRideDriver)
            : null, ct);
    }

    public Task<Ride> CompleteAsync(long rideId, CancellationToken ct = default) =>
        TransitionAsync("CompleteRide", rideId, RideStatus.Completed, CompleteRide, CompleteRideAcross, ride =>
            ride.Status != RideStatus.Accepted ? new Refusal($"Ride {ride.Id} is {Describe(ride.Status)}; only an accepted ride can be completed.", RideBookingConflict.InvalidRideState) : null, ct);

    public Task<Ride> CancelAsync(long rideId, CancellationToken ct = default) =>
        TransitionAsync("CancelRide", rideId, RideStatus.Cancelled, CancelRide, CancelRideAcross, ride =>
            ride.Status is not (RideStatus.Requested or RideStatus.Accepted) ? new Refusal($"Ride {ride.Id} is {Describe(ride.Status)}; only an active ride can be cancelled.", RideBookingConflict.InvalidRideState) : null, ct);

    /// <summary>
    /// Locks the ride row, checks the transition against the locked state, then applies it (two round trips). When the
    /// ride's driver lives on another physical shard, the ride's change and an outbox message commit together on the
    /// ride's shard, and the message is then applied once on the driver's shard (release the driver, add the fare).
    /// </summary>
    private async Task<Ride> TransitionAsync(string operation, long rideId, RideStatus target, string applySql, string? acrossShards, Func<Ride, Refusal?> refusal, CancellationToken ct)
    {
        Guard.Id(rideId, nameof(rideId));
        var shard = shards.PhysicalShardOf(rideId);
        var now = time.UtcNow();
        var driverShard = shard;
        var throughOutbox = false;
        var changed = await runner.RunAsync(operation, shard, transactional: true, async (unit, token) =>
        {
            var (ride, bookedAcross) = await unit.CreateCommand(LockRideForTransition).With("@Id", rideId)
                .ReadSingleOrDefaultAsync(r => new RideAndOrigin(Rows.Ride(r), r.GetInt64(7) == 1), token).ConfigureAwait(false)
                ?? throw new EntityNotFoundException($"Ride {rideId} does not exist.") { EntityKind = EntityKind.Ride, EntityId = rideId };
            driverShard = acrossShards is null ? shard : shards.PhysicalShardOf(ride.DriverId);
            throughOutbox = acrossShards is not null && (driverShard != shard || bookedAcross);

            if (unit.AfterUnknownCommit && ride.Status == target)
            {
                // The earlier attempt's commit went through.
                return ride;
            }

            if (refusal(ride) is { } refused)
            {
                metrics.Conflict(operation, "invalid_state");
                throw new InvalidRideStateException(refused.Reason) { Conflict = refused.Conflict };
            }

            // The change and COMMIT in one round trip: lock, then apply and commit.
            await unit.ExecuteAndCommitAsync(
                unit.CreateCommand(throughOutbox ? acrossShards! : applySql).With("@Id", ride.Id).With("@DriverId", ride.DriverId).With("@Fare", ride.Fare).With("@Now", now),
                token).ConfigureAwait(false);
            return ride with { Status = target, UpdatedAt = now };
        }, ct).ConfigureAwait(false);

        if (acrossShards is not null && !throughOutbox)
        {
            // Completing or cancelling freed the driver in the same transaction (across shards, the relay does it).
            await invalidation.DriverChangedAsync(changed.DriverId).ConfigureAwait(false);
        }

        if (throughOutbox)
        {
            await StepAsync(operation + ":committed").ConfigureAwait(false);
            await crossShard.TryRelayAsync(shard, driverShard, changed.Id, changed.DriverId, target == RideStatus.Completed ? "COMPLETED" : "CANCELLED", changed.Fare, ct).ConfigureAwait(false);
        }

        return changed;
    }

    /// <summary>
    /// A booking whose user and driver live on different physical shards: hold the driver on the driver's shard
    /// (one round trip), then store the ride with its decision on the user's shard (one round trip): the commit
    /// point. A ride that cannot be stored (the user is unknown or already riding) releases the hold. A process that
    /// dies in between leaves a hold without a ride, which the recovery pass releases after fencing the ride id.
    /// </summary>
    private async Task<Ride> BookAcrossShardsAsync(long userId, long driverId, decimal fare, int logicalShard, int shard, int driverShard, CallerKey? key, CancellationToken ct)
    {
        if (key is not null && await FindKeyedRideAsync(key, shard, stored: null, ct).ConfigureAwait(false) is { } repeat)
        {
            // A repeat: the first call's ride, without holding the driver again.
            return repeat;
        }

        var now = time.UtcNow();
        var ride = new Ride(ids.Next(logicalShard), userId, driverId, RideStatus.Requested, fare, now, now);
        bool IsOwn(Ride stored) => stored.UserId == userId && stored.DriverId == driverId && stored.Fare == fare && stored.CreatedAt == now;
        bool held;
        while (true)
        {
            try
            {
                held = await crossShard.HoldAsync(driverShard, driverId, ride.Id, ct).ConfigureAwait(false);
                break;
            }
            catch (RideBookingInfrastructureException ex) when (ex.InnerException is MySqlException mySql && mySql.IsDuplicateKey("uq_driver_holds_ride"))
            {
                // Another process generated the same ride id and holds a driver with it: nothing was kept; take a new id.
                metrics.IdCollision("BookRide");
                ride = ride with { Id = ids.Next(logicalShard) };
            }
        }

        if (!held)
        {
            var exists = await runner.RunAsync("BookRide.FindDriver", driverShard, transactional: false, (unit, token) =>
                unit.CreateCommand(DriverExists).With("@DriverId", driverId).ReadInt64Async(token), ct).ConfigureAwait(false);
            if (exists != 1)
            {
                throw new EntityNotFoundException($"Driver {driverId} does not exist.") { EntityKind = EntityKind.Driver, EntityId = driverId };
            }

            metrics.Conflict("BookRide", "driver_unavailable");
            throw new DriverUnavailableException($"Driver {driverId} is not available.");
        }

        await StepAsync("BookRide:held").ConfigureAwait(false);
        try
        {
            var stored = await runner.RunAsync("BookRide", shard, transactional: true, async (unit, token) =>
            {
                // A locking read: if the lost session is still committing this very ride, wait for it instead of missing it.
                if (unit.AfterUnknownCommit && await unit.CreateCommand(LockRide).With("@Id", ride.Id).ReadSingleOrDefaultAsync(Rows.Ride, token).ConfigureAwait(false) is { } earlier
                    && IsOwn(earlier))
                {
                    return earlier;
                }

                try
                {
                    var commit = unit.CreateCommand((key is null ? string.Empty : CallerKey.Insert + ";\n") + CommitCrossShardRide)
                        .With("@RideId", ride.Id).With("@UserId", userId).With("@DriverId", driverId).With("@Fare", fare).With("@Now", now);
                    await unit.ExecuteAndCommitAsync(key is null ? commit : key.Bind(commit, ride.Id, now), token).ConfigureAwait(false);
                    return ride;
                }
                catch (MySqlException ex) when (ex.IsDuplicateKey("uq_rides_active_user"))
                {
                    metrics.Conflict("BookRide", "active_ride_exists");
                    throw new ActiveRideExistsException($"User {userId} already has an active ride.", ex);
                }
                catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.NoReferencedRow2)
                {
                    throw new EntityNotFoundException($"User {userId} does not exist.", ex) { EntityKind = EntityKind.User, EntityId = userId };
                }
                catch (MySqlException ex) when (ex.IsIdCollision())
                {
                    // The ride id is already decided on this shard (a duplicate key means that row is committed). It may
                    // be this booking's own earlier attempt, whose COMMIT was lost on the way back: then the ride is ours.
                    // Otherwise recovery fenced it (the booking took longer than the grace period), or another process
                    // generated the same id; either way nothing of this attempt was stored.
                    var decided = await unit.RollBackThenReadAsync(unit.CreateCommand(RideRepository.RideById).With("@Id", ride.Id), Rows.Ride, token).ConfigureAwait(false);
                    if (decided is not null && IsOwn(decided))
                    {
                        return decided;
                    }

                    // The caller's key, taken by a concurrent call with the same key that committed first.
                    if (key is not null && await key.Bind(unit.CreateCommand(CallerKey.Find)).ReadSingleOrDefaultAsync(CallerKey.ReadStored, token).ConfigureAwait(false) is { } taken
                        && taken.EntityId != ride.Id)
                    {
                        throw new KeyTakenException(taken);
                    }

                    throw new CrossShardAbortedException(ex);
                }
            }, ct, () => new OutcomeKey(EntityId: ride.Id, IdempotencyKey: key?.Key)).ConfigureAwait(false);
            await StepAsync("BookRide:stored").ConfigureAwait(false);
            metrics.Booked();
            return stored;
        }
        catch (RideBookingException ex)
        {
            // The ride was not stored: release the driver held for it (a no-op when recovery already did).
            await StepAsync("BookRide:refused").ConfigureAwait(false);
            await crossShard.TryReleaseHoldAsync(driverShard, driverId, ride.Id).ConfigureAwait(false);
            if (ex is KeyTakenException keyTaken)
            {
                return await FindKeyedRideAsync(key!, shard, keyTaken.Stored, ct).ConfigureAwait(false)
                    ?? throw new RideBookingInfrastructureException("The ride of this idempotency key could not be read; try again.") { Operation = "BookRide", IsTransient = true };
            }

            if (ex is CrossShardAbortedException aborted)
            {
                throw new RideBookingInfrastructureException(
                    $"The booking of driver {driverId} for user {userId} was rolled back before it was stored (it took longer than the recovery grace period, or its ride id was taken); nothing is booked, and booking again is safe.",
                    aborted.InnerException)
                {
                    Operation = "BookRide",
                    IsTransient = true,
                };
            }

            throw;
        }
    }

    private Task StepAsync(string step) => crossShard.StepAsync(step);

    private sealed record RideAndOrigin(Ride Ride, bool BookedAcross);

    /// <summary>Why a transition is refused: the message and the conflict the exception carries.</summary>
    private sealed record Refusal(string Reason, RideBookingConflict Conflict);

    /// <summary>
    /// The ride a caller's key already booked (read on the user's primary), <see langword="null"/> when the key is unused;
    /// <see cref="IdempotencyKeyConflictException"/> when it was used with other arguments.
    /// </summary>
    private async Task<Ride?> FindKeyedRideAsync(CallerKey key, int shard, StoredKey? stored, CancellationToken ct)
    {
        return await runner.RunAsync("BookRide.FindKey", shard, transactional: false, async (unit, token) =>
        {
            var found = stored ?? await key.Bind(unit.CreateCommand(CallerKey.Find)).ReadSingleOrDefaultAsync(CallerKey.ReadStored, token).ConfigureAwait(false);
            return found is null ? null : await unit.CreateCommand(RideRepository.RideById).With("@Id", key.Resolve(found, "another booking")).ReadSingleOrDefaultAsync(Rows.Ride, token).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
    }

    /// <summary>The caller's key was taken by a concurrent call that committed first; never reaches a caller.</summary>
    private sealed class KeyTakenException(StoredKey stored) : RideBookingException("The idempotency key was taken.")
    {
        public StoredKey Stored { get; } = stored;
    }

    /// <summary>
    /// A cross-shard booking whose ride id was already decided on the user's shard: nothing was stored. A business-family
    /// type so that the runner neither retries it nor takes it for a lost connection; it never reaches a caller.
    /// </summary>
    private sealed class CrossShardAbortedException(Exception inner) : RideBookingException("The cross-shard booking was aborted.", inner);

    private static string Describe(RideStatus status) => status switch
    {
        RideStatus.Requested => "requested",
        RideStatus.Accepted => "accepted",
        RideStatus.Completed => "completed",
        _ => "cancelled",
    };

}
