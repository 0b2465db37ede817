using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>
/// The steps of the cross-shard protocol that run on the driver's shard, shared by the booking service and the
/// recovery pass. Every step is one local transaction and idempotent: running it again after a crash or a replay
/// changes nothing more.
/// </summary>
internal sealed partial class CrossShardSteps(TransactionRunner runner, TimeProvider time, ICacheInvalidation invalidation, ILoggerFactory? loggerFactory = null)
{
    private readonly ILogger _logger = (ILogger?)loggerFactory?.CreateLogger<CrossShardSteps>() ?? NullLogger.Instance;

    /// <summary>
    /// Takes the driver and records the hold for the ride, in one round trip (START TRANSACTION ... COMMIT).
    /// ROW_COUNT() of the UPDATE is 1 only for the one caller that flipped the flag, whether the connection reports
    /// found or affected rows (the UPDATE changes the column it filters on).
    /// </summary>
    private const string HoldDriver = """
        UPDATE drivers SET available = FALSE WHERE id = @DriverId AND available = TRUE;
        SET @rb_taken = ROW_COUNT();
        INSERT INTO driver_holds (driver_id, ride_id, held_at) SELECT @DriverId, @RideId, @Now FROM DUAL WHERE @rb_taken = 1
        """;

    /// <summary>A locking read: a lost session still committing the hold is waited for, not missed.</summary>
    private const string HoldOfDriver = "SELECT ride_id FROM driver_holds WHERE driver_id = @DriverId FOR UPDATE";

    /// <summary>Releases the driver only if this ride still holds it.</summary>
    private const string ReleaseHold = """
        DELETE FROM driver_holds WHERE driver_id = @DriverId AND ride_id = @RideId;
        SET @rb_released = ROW_COUNT();
        UPDATE drivers SET available = TRUE WHERE id = @DriverId AND @rb_released = 1;
        """;

    /// <summary>
    /// Applies an outbox message once: the applied row is inserted only the first time (INSERT IGNORE on the ride id),
    /// and every other change is conditional on that, so a replay adds no fare twice.
    /// </summary>
    private const string ApplyRelease = """
        INSERT IGNORE INTO cross_shard_applied (ride_id, driver_id, kind, applied_at) VALUES (@RideId, @DriverId, @Kind, @Now);
        SET @rb_new = ROW_COUNT();
        DELETE FROM driver_holds WHERE ride_id = @RideId AND @rb_new = 1;
        UPDATE drivers SET available = TRUE WHERE id = @DriverId AND @rb_new = 1;
        INSERT INTO driver_earnings (driver_id, total_earnings, completed_rides, updated_at)
        SELECT @DriverId, @Fare, 1, @Now FROM DUAL WHERE @rb_new = 1 AND @Kind = 'COMPLETED'
        ON DUPLICATE KEY UPDATE total_earnings = total_earnings + @Fare, completed_rides = completed_rides + 1, updated_at = @Now;
        """;

    private const string DeleteOutbox = "DELETE FROM cross_shard_outbox WHERE ride_id = @RideId";

    /// <summary>Test seam: runs between the steps of a cross-shard operation, with the name of the step just done.</summary>
    internal Func<string, Task>? Step { get; set; }

    public Task StepAsync(string step) => Step is { } hook ? hook(step) : Task.CompletedTask;

    /// <summary>Holds the driver for the ride on the driver's shard; false when the driver is not available.</summary>
    public async Task<bool> HoldAsync(int driverShard, long driverId, long rideId, CancellationToken ct)
    {
        var now = time.UtcNow();
        var held = await runner.RunAsync("BookRide.HoldDriver", driverShard, transactional: true, async (unit, token) =>
        {
            if (unit.AfterUnknownCommit)
            {
                var holders = await unit.CreateCommand(HoldOfDriver).With("@DriverId", driverId).ReadListAsync(r => r.GetInt64(0), token).ConfigureAwait(false);
                if (holders.Contains(rideId))
                {
                    return true;
                }
            }

            // Held: the UPDATE matched (1) and the hold was inserted (1); otherwise nothing changed (0).
            var changed = await unit.ExecuteAndCommitAsync(unit.CreateCommand(HoldDriver).With("@DriverId", driverId).With("@RideId", rideId).With("@Now", now), token).ConfigureAwait(false);
            return changed >= 2;
        }, ct).ConfigureAwait(false);
        if (held)
        {
            await invalidation.DriverChangedAsync(driverId).ConfigureAwait(false);
        }

        return held;
    }

    /// <summary>Undoes a hold whose ride was not stored; true when this call released the driver.</summary>
    public async Task<bool> ReleaseHoldAsync(int driverShard, long driverId, long rideId, CancellationToken ct)
    {
        var released = await runner.RunAsync("BookRide.ReleaseDriver", driverShard, transactional: true, async (unit, token) =>
        {
            var changed = await unit.ExecuteAndCommitAsync(unit.CreateCommand(ReleaseHold).With("@DriverId", driverId).With("@RideId", rideId), token).ConfigureAwait(false);
            return changed > 0;
        }, ct).ConfigureAwait(false);
        if (released)
        {
            await invalidation.DriverChangedAsync(driverId).ConfigureAwait(false);
        }

        return released;
    }

    /// <summary>
    /// Delivers a completed or cancelled ride's message to the driver's shard (release the driver, add the fare once),
    /// then deletes it from the user's shard.
    /// </summary>
    public async Task RelayAsync(int rideShard, int driverShard, long rideId, long driverId, string kind, decimal fare, CancellationToken ct)
    {
        var now = time.UtcNow();
        await runner.RunAsync("RelayRideRelease", driverShard, transactional: true, async (unit, token) =>
            await unit.ExecuteAndCommitAsync(
                unit.CreateCommand(ApplyRelease).With("@RideId", rideId).With("@DriverId", driverId).With("@Kind", kind).With("@Fare", fare).With("@Now", now),
                token).ConfigureAwait(false), ct).ConfigureAwait(false);
        // The driver is free again (or was already, when this message had been applied before).
        await invalidation.DriverChangedAsync(driverId).ConfigureAwait(false);
        await StepAsync("Relay:applied").ConfigureAwait(false);
        await runner.RunAsync("RelayRideRelease.Done", rideShard, transactional: false, (unit, token) =>
            unit.ExecuteWriteAsync(unit.CreateCommand(DeleteOutbox).With("@RideId", rideId), token), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Relays after the ride's change committed: a failure of the driver's shard does not fail the caller, whose ride
    /// did change; the message stays in the outbox and the recovery pass delivers it.
    /// </summary>
    public async Task TryRelayAsync(int rideShard, int driverShard, long rideId, long driverId, string kind, decimal fare, CancellationToken ct)
    {
        try
        {
            await RelayAsync(rideShard, driverShard, rideId, driverId, kind, fare, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsInfrastructure(ex) && !ct.IsCancellationRequested)
        {
            LogPending(_logger, "release of the driver", rideId, ShardReader.Describe(ex));
        }
    }

    /// <summary>Undoes a hold after a refused booking; a failure leaves the hold to the recovery pass instead of hiding the refusal.</summary>
    public async Task TryReleaseHoldAsync(int driverShard, long driverId, long rideId)
    {
        try
        {
            await ReleaseHoldAsync(driverShard, driverId, rideId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsInfrastructure(ex))
        {
            LogPending(_logger, "release of the held driver", rideId, ShardReader.Describe(ex));
        }
    }

    private static bool IsInfrastructure(Exception ex) =>
        ex is MySqlException or RideBookingInfrastructureException or IOException or System.Net.Sockets.SocketException or TimeoutException;

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "RideBooking.Data: the {What} for ride {RideId} failed ({Error}); the recovery pass completes it")]
    private static partial void LogPending(ILogger logger, string what, long rideId, string error);
}
