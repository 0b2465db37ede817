using Dapper;

namespace RideBooking.Data.IntegrationTests;

public sealed class LifecycleTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task User_and_driver_are_created_and_read_back()
    {
        var user = await db.Users.CreateAsync("Asha", db.NextPhone());
        var driver = await db.Drivers.CreateAsync("Ravi", "KA-01-1234");

        Assert.Equal(user, await db.Users.GetAsync(user.Id));
        Assert.Equal(driver, await db.Drivers.GetAsync(driver.Id));
        Assert.True(driver.Available);
        Assert.Equal(DateTimeKind.Utc, (await db.Users.GetAsync(user.Id))!.CreatedAt.Kind);
        Assert.Null(await db.Users.GetAsync(user.Id + 1_000_000));
        Assert.Null(await db.Drivers.GetAsync(driver.Id + 1_000_000));
    }

    [Fact]
    public async Task Book_accept_complete_frees_the_driver_and_counts_toward_earnings()
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();

        var booked = await db.Booking.BookAsync(user.Id, driver.Id, 250.50m);
        Assert.Equal(RideStatus.Requested, booked.Status);
        Assert.Equal(booked, await db.Rides.GetAsync(booked.Id));
        Assert.False((await db.Drivers.GetAsync(driver.Id))!.Available);

        var accepted = await db.Booking.AcceptAsync(booked.Id, driver.Id);
        Assert.Equal(RideStatus.Accepted, accepted.Status);
        Assert.Equal(accepted, await db.Rides.GetAsync(booked.Id));

        var completed = await db.Booking.CompleteAsync(booked.Id);
        Assert.Equal(RideStatus.Completed, completed.Status);
        Assert.Equal(completed, await db.Rides.GetAsync(booked.Id));
        Assert.True((await db.Drivers.GetAsync(driver.Id))!.Available);

        var earnings = await db.Rides.GetDriverEarningsAsync();
        Assert.Contains(new DriverEarnings(driver.Id, 250.50m), earnings);

        // The user can book again once the ride is over.
        var again = await db.Booking.BookAsync(user.Id, driver.Id, 10m);
        Assert.Equal(RideStatus.Requested, again.Status);
        await db.Booking.CancelAsync(again.Id);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Booking_outcomes_do_not_depend_on_UseAffectedRows(bool useAffectedRows)
    {
        await using var services = DatabaseFixture.BuildServices(new MySqlConnector.MySqlConnectionStringBuilder(db.ConnectionString) { UseAffectedRows = useAffectedRows }.ConnectionString);
        var booking = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<IRideBookingService>(services);
        var user = await db.NewUserAsync();
        var rival = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();

        var ride = await booking.BookAsync(user.Id, driver.Id, 7m);
        await Assert.ThrowsAsync<DriverUnavailableException>(() => booking.BookAsync(rival.Id, driver.Id, 7m));
        var free = await db.NewDriverAsync();
        await Assert.ThrowsAsync<EntityNotFoundException>(() => booking.BookAsync(long.MaxValue, free.Id, 7m));
        Assert.True((await db.Drivers.GetAsync(free.Id))!.Available);
        await booking.AcceptAsync(ride.Id, driver.Id);
        await booking.CompleteAsync(ride.Id);

        Assert.Equal(RideStatus.Completed, (await db.Rides.GetAsync(ride.Id))!.Status);
        Assert.True((await db.Drivers.GetAsync(driver.Id))!.Available);
        Assert.Empty(await db.Rides.GetLatestForUserAsync(rival.Id, 10));
    }

    [Fact]
    public async Task Cancel_from_requested_or_accepted_frees_the_driver_and_earns_nothing()
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();

        var first = await db.Booking.BookAsync(user.Id, driver.Id, 40m);
        Assert.Equal(RideStatus.Cancelled, (await db.Booking.CancelAsync(first.Id)).Status);
        Assert.True((await db.Drivers.GetAsync(driver.Id))!.Available);

        var second = await db.Booking.BookAsync(user.Id, driver.Id, 41m);
        await db.Booking.AcceptAsync(second.Id, driver.Id);
        Assert.Equal(RideStatus.Cancelled, (await db.Booking.CancelAsync(second.Id)).Status);
        Assert.True((await db.Drivers.GetAsync(driver.Id))!.Available);

        Assert.DoesNotContain(await db.Rides.GetDriverEarningsAsync(), e => e.DriverId == driver.Id);
    }

    [Fact]
    public async Task Every_illegal_transition_is_refused_and_changes_nothing()
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var other = await db.NewDriverAsync();
        var ride = await db.Booking.BookAsync(user.Id, driver.Id, 12m);

        // Requested: cannot complete; only its own driver can accept.
        await AssertRefusedAsync(() => db.Booking.CompleteAsync(ride.Id));
        await AssertRefusedAsync(() => db.Booking.AcceptAsync(ride.Id, other.Id));

        await db.Booking.AcceptAsync(ride.Id, driver.Id);
        // Accepted: accepting again is a replay, refused.
        await AssertRefusedAsync(() => db.Booking.AcceptAsync(ride.Id, driver.Id));

        await db.Booking.CompleteAsync(ride.Id);
        // Completed: final.
        await AssertRefusedAsync(() => db.Booking.CompleteAsync(ride.Id));
        await AssertRefusedAsync(() => db.Booking.CancelAsync(ride.Id));
        await AssertRefusedAsync(() => db.Booking.AcceptAsync(ride.Id, driver.Id));

        var cancelled = await db.Booking.BookAsync(user.Id, driver.Id, 5m);
        await db.Booking.CancelAsync(cancelled.Id);
        // Cancelled: final.
        await AssertRefusedAsync(() => db.Booking.CancelAsync(cancelled.Id));
        await AssertRefusedAsync(() => db.Booking.AcceptAsync(cancelled.Id, driver.Id));
        await AssertRefusedAsync(() => db.Booking.CompleteAsync(cancelled.Id));

        Assert.Equal(new DriverEarnings(driver.Id, 12m), Assert.Single(await db.Rides.GetDriverEarningsAsync(), e => e.DriverId == driver.Id));
    }

    [Fact]
    public async Task Unknown_rides_are_not_found()
    {
        var driver = await db.NewDriverAsync();
        await Assert.ThrowsAsync<EntityNotFoundException>(() => db.Booking.AcceptAsync(long.MaxValue, driver.Id));
        await Assert.ThrowsAsync<EntityNotFoundException>(() => db.Booking.CompleteAsync(long.MaxValue));
        await Assert.ThrowsAsync<EntityNotFoundException>(() => db.Booking.CancelAsync(long.MaxValue));
        Assert.Null(await db.Rides.GetAsync(long.MaxValue));
    }

    [Fact]
    public async Task Booking_losers_get_typed_errors_and_nothing_is_written()
    {
        var user = await db.NewUserAsync();
        var busyUser = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var busyDriver = await db.NewDriverAsync();
        await db.Booking.BookAsync(busyUser.Id, busyDriver.Id, 9m);
        var before = await db.ChecksumAsync();

        await Assert.ThrowsAsync<DriverUnavailableException>(() => db.Booking.BookAsync(user.Id, busyDriver.Id, 9m));
        await Assert.ThrowsAsync<ActiveRideExistsException>(() => db.Booking.BookAsync(busyUser.Id, driver.Id, 9m));
        await Assert.ThrowsAsync<EntityNotFoundException>(() => db.Booking.BookAsync(long.MaxValue, driver.Id, 9m));
        await Assert.ThrowsAsync<EntityNotFoundException>(() => db.Booking.BookAsync(user.Id, long.MaxValue, 9m));

        Assert.Equal(before, await db.ChecksumAsync());
        Assert.True((await db.Drivers.GetAsync(driver.Id))!.Available);
    }

    [Fact]
    public async Task The_database_itself_refuses_a_second_active_ride_for_a_user()
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var ride = await db.Booking.BookAsync(user.Id, driver.Id, 3m);

        // Bypass the library: a raw insert of a second active ride violates the unique generated column.
        await using var connection = await db.OpenAsync();
        var ex = await Assert.ThrowsAsync<MySqlConnector.MySqlException>(() => connection.ExecuteAsync(
            "INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at) VALUES (@Id, @UserId, @DriverId, 'ACCEPTED', 1, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
            new { Id = ride.Id + 1, UserId = user.Id, DriverId = ride.DriverId + 1 }));
        Assert.Equal(MySqlConnector.MySqlErrorCode.DuplicateKeyEntry, ex.ErrorCode);
        Assert.Contains("uq_rides_active_user", ex.Message, StringComparison.Ordinal);
    }

    private static async Task AssertRefusedAsync(Func<Task<Ride>> transition) =>
        await Assert.ThrowsAsync<InvalidRideStateException>(transition);
}
