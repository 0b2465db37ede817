using Microsoft.Extensions.DependencyInjection;
using RideBooking.Data.Internal;
using RideBooking.Data.Testing;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// The host reads and the error properties on the sharded test cluster (4 primaries with a replica each), including
/// rides whose user and driver live on different shards.
/// </summary>
#pragma warning disable CA1001 // xunit disposes the services through IAsyncLifetime.DisposeAsync.
public sealed class ShardedHostReadApiTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>, IAsyncLifetime
#pragma warning restore CA1001
{
    private ShardedServices _db = null!;

    private sealed class SimulatedCrashException() : Exception("simulated crash");

    public Task InitializeAsync()
    {
        _db = new ShardedServices(fixture.Cluster, o => o.RecoveryGracePeriod = TimeSpan.FromSeconds(1));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private CrossShardSteps Steps => _db.Services.GetRequiredService<CrossShardSteps>();

    [Theory]
    [InlineData(0, 1)]
    [InlineData(2, 2)]
    public async Task The_current_ride_of_the_user_and_of_the_driver_is_found_whether_they_share_a_shard_or_not(int userShard, int driverShard)
    {
        var user = await _db.NewUserOnShardAsync(userShard);
        var driver = await _db.NewDriverOnShardAsync(driverShard);
        Assert.Null(await _db.Rides.GetCurrentForUserAsync(user.Id));
        Assert.Null(await _db.Rides.GetCurrentForDriverAsync(driver.Id));

        var ride = await _db.Booking.BookAsync(user.Id, driver.Id, 14m);
        Assert.Equal(ride, await _db.Rides.GetCurrentForUserAsync(user.Id));
        Assert.Equal(ride, await _db.Rides.GetCurrentForDriverAsync(driver.Id));

        await _db.Booking.AcceptAsync(ride.Id, driver.Id);
        Assert.Equal(RideStatus.Accepted, (await _db.Rides.GetCurrentForUserAsync(user.Id))!.Status);
        Assert.Equal((ride.Id, RideStatus.Accepted), ((await _db.Rides.GetCurrentForDriverAsync(driver.Id))!.Id, (await _db.Rides.GetCurrentForDriverAsync(driver.Id))!.Status));

        await _db.Booking.CompleteAsync(ride.Id);
        Assert.Null(await _db.Rides.GetCurrentForUserAsync(user.Id));
        Assert.Null(await _db.Rides.GetCurrentForDriverAsync(driver.Id));

        var txn = $"txn-sharded-read-{ride.Id}";
        var paid = await _db.Payments.RecordAsync(ride.Id, txn, 14m);
        Assert.Equal(paid.Payment, await _db.Payments.GetForRideAsync(ride.Id));
        await _db.Payments.SetStatusAsync(txn, PaymentStatus.Succeeded);
        Assert.Equal(PaymentStatus.Succeeded, (await _db.Payments.GetForRideAsync(ride.Id))!.Status);
        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);
    }

    [Fact]
    public async Task A_hold_whose_ride_is_not_stored_yet_or_already_ended_is_no_current_ride()
    {
        var user = await _db.NewUserOnShardAsync(3);
        var driver = await _db.NewDriverOnShardAsync(0);

        // The process dies between holding the driver and storing the ride: a hold, no ride.
        await CrashAtAsync("BookRide:held", () => _db.Booking.BookAsync(user.Id, driver.Id, 8m));
        Assert.Equal([0], await _db.ShardsHoldingAsync("driver_holds", driver.Id, "driver_id"));
        Assert.Null(await _db.Rides.GetCurrentForDriverAsync(driver.Id));
        Assert.Null(await _db.Rides.GetCurrentForUserAsync(user.Id));
        await RecoverAsync();

        // The process dies after the completion committed, before the driver's shard released the hold.
        var ride = await _db.Booking.BookAsync(user.Id, driver.Id, 8m);
        await _db.Booking.AcceptAsync(ride.Id, driver.Id);
        await CrashAtAsync("CompleteRide:committed", () => _db.Booking.CompleteAsync(ride.Id));
        Assert.Equal([0], await _db.ShardsHoldingAsync("driver_holds", driver.Id, "driver_id"));
        Assert.Null(await _db.Rides.GetCurrentForDriverAsync(driver.Id));
        Assert.Null(await _db.Rides.GetCurrentForUserAsync(user.Id));
        await RecoverAsync();
        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);
    }

    [Fact]
    public async Task Paging_a_users_rides_on_its_shard_sees_each_ride_once_while_new_rides_are_booked()
    {
        var user = await _db.NewUserOnShardAsync(1);
        var drivers = new[] { await _db.NewDriverOnShardAsync(1), await _db.NewDriverOnShardAsync(3) };
        for (var i = 0; i < 7; i++)
        {
            var ride = await _db.Booking.BookAsync(user.Id, drivers[i % 2].Id, i + 1m);
            await _db.Booking.CancelAsync(ride.Id);
        }

        var before = (await _db.Rides.GetLatestForUserAsync(user.Id, 100)).Select(r => r.Id).ToList();
        Assert.Equal(7, before.Count);
        var seen = new List<long>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await _db.Rides.GetPageForUserAsync(user.Id, 3, cursor);
            pages++;
            seen.AddRange(page.Items.Select(r => r.Id));
            cursor = page.NextCursor;
            var extra = await _db.Booking.BookAsync(user.Id, drivers[1].Id, 2m);
            await _db.Booking.CancelAsync(extra.Id);
        }
        while (cursor is not null);

        Assert.Equal(before, seen);
        Assert.Equal(3, pages);
        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);
    }

    [Fact]
    public async Task Errors_of_cross_shard_bookings_and_payments_carry_the_entity_and_the_conflict()
    {
        var user = await _db.NewUserOnShardAsync(2);
        var driver = await _db.NewDriverOnShardAsync(3);
        var stranger = await _db.NewUserOnShardAsync(1);
        var missingUser = stranger.Id + (256 * 1024);
        var missingDriver = driver.Id + (256 * 1024);

        ErrorPropertyTests.AssertMissing(await Assert.ThrowsAsync<EntityNotFoundException>(() => _db.Booking.BookAsync(missingUser, driver.Id, 9m)), EntityKind.User, missingUser);
        ErrorPropertyTests.AssertMissing(await Assert.ThrowsAsync<EntityNotFoundException>(() => _db.Booking.BookAsync(user.Id, missingDriver, 9m)), EntityKind.Driver, missingDriver);

        var ride = await _db.Booking.BookAsync(user.Id, driver.Id, 9m);
        var rival = await _db.NewUserOnShardAsync(0);
        var otherDriver = await _db.NewDriverOnShardAsync(0);
        ErrorPropertyTests.AssertConflict(await Assert.ThrowsAsync<DriverUnavailableException>(() => _db.Booking.BookAsync(rival.Id, driver.Id, 9m)), RideBookingConflict.DriverUnavailable);
        ErrorPropertyTests.AssertConflict(await Assert.ThrowsAsync<ActiveRideExistsException>(() => _db.Booking.BookAsync(user.Id, otherDriver.Id, 9m)), RideBookingConflict.ActiveRideExists);
        ErrorPropertyTests.AssertConflict(await Assert.ThrowsAsync<InvalidRideStateException>(() => _db.Booking.AcceptAsync(ride.Id, rival.Id)), RideBookingConflict.NotRideDriver);
        await _db.Booking.AcceptAsync(ride.Id, driver.Id);
        await _db.Booking.CompleteAsync(ride.Id);
        ErrorPropertyTests.AssertMissing(await Assert.ThrowsAsync<EntityNotFoundException>(() => _db.Booking.CompleteAsync(ride.Id + (256 * 1024))), EntityKind.Ride, ride.Id + (256 * 1024));

        // A transaction id whose claim lives on another shard than the ride: the conflict is found through the claim.
        var txn = Enumerable.Range(0, 1000).Select(i => $"txn-x-props-{ride.Id}-{i}")
            .First(t => _db.Resolver.PhysicalShardOf(ride.Id) != ((ShardResolver)_db.Resolver).PhysicalShardOfLogical(KeyHome.OfTransactionId(t)));
        await _db.Payments.RecordAsync(ride.Id, txn, 9m);
        ErrorPropertyTests.AssertConflict(await Assert.ThrowsAsync<PaymentConflictException>(() => _db.Payments.RecordAsync(ride.Id, txn, 10m)), RideBookingConflict.TransactionIdMismatch);
        ErrorPropertyTests.AssertConflict(await Assert.ThrowsAsync<PaymentConflictException>(() => _db.Payments.RecordAsync(ride.Id, txn + "-other", 9m)), RideBookingConflict.RideAlreadyPaid);
        await _db.Payments.SetStatusAsync(txn, PaymentStatus.Failed);
        ErrorPropertyTests.AssertConflict(await Assert.ThrowsAsync<PaymentConflictException>(() => _db.Payments.SetStatusAsync(txn, PaymentStatus.Succeeded)), RideBookingConflict.PaymentStatusFinal);
        ErrorPropertyTests.AssertMissing(await Assert.ThrowsAsync<EntityNotFoundException>(() => _db.Payments.SetStatusAsync(txn + "-never", PaymentStatus.Failed)), EntityKind.Payment, null);
        Assert.Equal(PaymentStatus.Failed, (await _db.Payments.GetForRideAsync(ride.Id))!.Status);
        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);
    }

    /// <summary>
    /// Moves change which server a driver lives on: a ride booked on one server whose user and driver a move then
    /// separated has no hold, and one booked across servers that a move then joined has a hold and a local ride.
    /// </summary>
    [Fact]
    public async Task The_current_ride_of_a_driver_is_found_after_a_move_separated_or_joined_the_user_and_the_driver()
    {
        await using var cluster = await RideBookingTestCluster.CreateAsync(2, 0);
        // The process that moves logical shards connects as the account of schema/grants/03_resharding.sql.
        await using var db = new ShardedServices(cluster, o =>
        {
            cluster.Configure(o, RideBookingTestAccount.Resharding);
            o.RecoveryGracePeriod = TimeSpan.FromSeconds(1);
            o.PlacementRefreshInterval = TimeSpan.FromMilliseconds(50);
        });
        var mover = db.Services.GetRequiredService<IShardMover>();

        var user = await db.NewUserOnShardAsync(0);
        var driver = await db.NewDriverOnShardAsync(0);
        Assert.NotEqual(db.Resolver.LogicalShardOf(user.Id), db.Resolver.LogicalShardOf(driver.Id));
        var together = await db.Booking.BookAsync(user.Id, driver.Id, 6m);
        await mover.MoveAsync(db.Resolver.LogicalShardOf(driver.Id), 1);
        Assert.Equal(1, db.Resolver.PhysicalShardOf(driver.Id));
        Assert.Empty(await db.ShardsHoldingAsync("driver_holds", driver.Id, "driver_id"));
        Assert.Equal(together.Id, (await db.Rides.GetCurrentForDriverAsync(driver.Id))!.Id);
        await db.Booking.CancelAsync(together.Id);
        Assert.Null(await db.Rides.GetCurrentForDriverAsync(driver.Id));

        var across = await db.Booking.BookAsync(user.Id, driver.Id, 7m);
        Assert.Equal([1], await db.ShardsHoldingAsync("driver_holds", driver.Id, "driver_id"));
        await mover.MoveAsync(db.Resolver.LogicalShardOf(driver.Id), 0);
        Assert.Equal(0, db.Resolver.PhysicalShardOf(driver.Id));
        Assert.Equal(across.Id, (await db.Rides.GetCurrentForDriverAsync(driver.Id))!.Id);
        Assert.Equal(across.Id, (await db.Rides.GetCurrentForUserAsync(user.Id))!.Id);
        await db.Booking.CancelAsync(across.Id);
        Assert.Null(await db.Rides.GetCurrentForDriverAsync(driver.Id));
        Assert.True((await db.Drivers.GetAsync(driver.Id))!.Available);
    }

    private async Task RecoverAsync()
    {
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        await _db.Services.GetRequiredService<IRideBookingRecovery>().RunAsync();
    }

    private async Task CrashAtAsync<T>(string step, Func<Task<T>> operation)
    {
        Steps.Step = name => name == step ? throw new SimulatedCrashException() : Task.CompletedTask;
        try
        {
            await Assert.ThrowsAsync<SimulatedCrashException>(operation);
        }
        finally
        {
            Steps.Step = null;
        }
    }
}
