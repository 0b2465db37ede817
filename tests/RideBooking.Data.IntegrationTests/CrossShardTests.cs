using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Internal;
using Xunit.Abstractions;

namespace RideBooking.Data.IntegrationTests;

/// <summary>Bookings, completions and cancellations whose user and driver live on different shards, with crashes between the steps.</summary>
#pragma warning disable CA1001 // xunit disposes the services through IAsyncLifetime.DisposeAsync.
public sealed class CrossShardTests(ClusterFixture fixture, ITestOutputHelper output) : IClassFixture<ClusterFixture>, IAsyncLifetime
#pragma warning restore CA1001
{
    private ShardedServices _db = null!;

    /// <summary>Thrown from the test seam: the library lets it escape without compensating, as if the process had died.</summary>
    private sealed class SimulatedCrashException() : Exception("simulated crash");

    public Task InitializeAsync()
    {
        _db = new ShardedServices(fixture.Cluster, o => o.RecoveryGracePeriod = TimeSpan.FromSeconds(1));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private CrossShardSteps Steps => _db.Services.GetRequiredService<CrossShardSteps>();

    private IRideBookingRecovery Recovery => _db.Services.GetRequiredService<IRideBookingRecovery>();

    /// <summary>Runs recovery once the interrupted work is older than the grace period.</summary>
    private async Task<int> RecoverAsync()
    {
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        return await Recovery.RunAsync();
    }

    private async Task<T> CrashAtAsync<T>(string step, Func<Task<T>> operation)
    {
        Steps.Step = name => name == step ? throw new SimulatedCrashException() : Task.CompletedTask;
        try
        {
            return await operation();
        }
        finally
        {
            Steps.Step = null;
        }
    }

    private async Task<(User User, Driver Driver)> PairAcrossAsync(int userShard = 0, int driverShard = 1) =>
        (await _db.NewUserOnShardAsync(userShard), await _db.NewDriverOnShardAsync(driverShard));

    [Fact]
    public async Task A_cross_shard_ride_is_booked_in_two_round_trips_completed_once_and_paid()
    {
        var (user, driver) = await PairAcrossAsync(0, 1);
        var other = await _db.NewUserOnShardAsync(2);
        var warm = await _db.Booking.BookAsync(other.Id, driver.Id, 1m);
        await _db.Booking.CancelAsync(warm.Id);

        Ride ride = null!;
        var trips = await RoundTripTests.RecordAsync(async () => ride = await _db.Booking.BookAsync(user.Id, driver.Id, 25m));

        Assert.Equal(2, trips.Count);
        Assert.Equal([0], await _db.ShardsHoldingAsync("rides", ride.Id));
        Assert.Equal([1], await _db.ShardsHoldingAsync("driver_holds", driver.Id, "driver_id"));
        Assert.False((await _db.Drivers.GetAsync(driver.Id))!.Available);
        await _db.Booking.AcceptAsync(ride.Id, driver.Id);
        var completed = await _db.Booking.CompleteAsync(ride.Id);
        Assert.Equal(RideStatus.Completed, completed.Status);
        Assert.True((await _db.Drivers.GetAsync(driver.Id))!.Available);
        Assert.Contains(await _db.Rides.GetDriverEarningsAsync(), e => e.DriverId == driver.Id && e.TotalEarnings == 25m);
        var paid = await _db.Payments.RecordAsync(ride.Id, $"txn-x-{ride.Id}", 25m);
        Assert.Equal([0], await _db.ShardsHoldingAsync("payments", paid.Payment.Id));
        Assert.Empty(await _db.ShardsHoldingAsync("driver_holds", driver.Id, "driver_id"));
        await Assert.ThrowsAsync<InvalidRideStateException>(() => _db.Booking.CompleteAsync(ride.Id));
        Assert.Equal(0, await _db.Services.GetRequiredService<IRideBookingRecovery>().RunAsync());
        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);
    }

    [Fact]
    public async Task Refused_cross_shard_bookings_release_the_driver_and_store_nothing()
    {
        var (user, driver) = await PairAcrossAsync(1, 2);
        var busy = await _db.NewDriverOnShardAsync(1);
        var active = await _db.Booking.BookAsync(user.Id, busy.Id, 5m);

        await Assert.ThrowsAsync<ActiveRideExistsException>(() => _db.Booking.BookAsync(user.Id, driver.Id, 9m));
        Assert.True((await _db.Drivers.GetAsync(driver.Id))!.Available);
        Assert.Empty(await _db.ShardsHoldingAsync("driver_holds", driver.Id, "driver_id"));

        var stranger = await _db.NewUserOnShardAsync(3);
        await Assert.ThrowsAsync<EntityNotFoundException>(() => _db.Booking.BookAsync(stranger.Id + 256 * 1024, driver.Id, 9m));
        Assert.True((await _db.Drivers.GetAsync(driver.Id))!.Available);

        var third = await _db.NewUserOnShardAsync(0);
        await Assert.ThrowsAsync<DriverUnavailableException>(() => _db.Booking.BookAsync(third.Id, busy.Id, 9m));
        await Assert.ThrowsAsync<EntityNotFoundException>(() => _db.Booking.BookAsync(third.Id, driver.Id + 256 * 1024, 9m));
        await _db.Booking.CancelAsync(active.Id);
        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);
    }

    [Fact]
    public async Task Sixty_four_users_on_four_shards_racing_for_one_driver_yield_one_booking()
    {
        var driver = await _db.NewDriverOnShardAsync(3);
        var users = new List<User>();
        for (var shard = 0; shard < 4; shard++)
        {
            for (var i = 0; i < 16; i++)
            {
                users.Add(await _db.NewUserOnShardAsync(shard));
            }
        }

        var results = await Task.WhenAll(users.Select(user => Task.Run(async () =>
        {
            try
            {
                return await _db.Booking.BookAsync(user.Id, driver.Id, 11m);
            }
            catch (DriverUnavailableException)
            {
                return null;
            }
        })));

        var winner = Assert.Single(results, r => r is not null)!;
        var rides = 0L;
        foreach (var shard in fixture.Cluster.Shards)
        {
            await using var connection = new MySqlConnection(shard.Primary);
            rides += await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides WHERE driver_id = @Id", new { driver.Id });
        }

        Assert.Equal(1, rides);
        await _db.Booking.CancelAsync(winner.Id);
        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);
    }

    [Fact]
    public async Task One_user_racing_for_sixteen_drivers_on_four_shards_gets_one_ride_and_fifteen_stay_available()
    {
        var user = await _db.NewUserOnShardAsync(2);
        var drivers = new List<Driver>();
        for (var shard = 0; shard < 4; shard++)
        {
            for (var i = 0; i < 4; i++)
            {
                drivers.Add(await _db.NewDriverOnShardAsync(shard));
            }
        }

        var results = await Task.WhenAll(drivers.Select(driver => Task.Run(async () =>
        {
            try
            {
                return await _db.Booking.BookAsync(user.Id, driver.Id, 13m);
            }
            catch (ActiveRideExistsException)
            {
                return null;
            }
        })));

        var winner = Assert.Single(results, r => r is not null)!;
        var available = 0;
        foreach (var driver in drivers)
        {
            var now = await _db.Drivers.GetAsync(driver.Id);
            Assert.Equal(driver.Id != winner.DriverId, now!.Available);
            available += now.Available ? 1 : 0;
        }

        Assert.Equal(15, available);
        await _db.Booking.CancelAsync(winner.Id);
        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);
    }

    [Fact]
    public async Task A_crash_after_the_hold_leaves_a_hold_that_recovery_releases_and_fences()
    {
        var (user, driver) = await PairAcrossAsync(2, 3);
        await Assert.ThrowsAsync<SimulatedCrashException>(() => CrashAtAsync("BookRide:held", () => _db.Booking.BookAsync(user.Id, driver.Id, 7m)));
        Assert.False((await _db.Drivers.GetAsync(driver.Id))!.Available);
        var rideId = await HeldRideAsync(driver);

        Assert.True(await RecoverAsync() >= 1);

        Assert.True((await _db.Drivers.GetAsync(driver.Id))!.Available);
        Assert.Empty(await _db.ShardsHoldingAsync("rides", rideId));
        Assert.Equal("ABORTED", await DecisionAsync(rideId));
        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);
        // The user and the driver can book again.
        await _db.Booking.CancelAsync((await _db.Booking.BookAsync(user.Id, driver.Id, 7m)).Id);
    }

    [Fact]
    public async Task A_booking_slower_than_the_grace_period_is_fenced_by_recovery_and_fails_cleanly()
    {
        var (user, driver) = await PairAcrossAsync(3, 0);
        var held = new TaskCompletionSource();
        var proceed = new TaskCompletionSource();
        Steps.Step = async name =>
        {
            if (name == "BookRide:held")
            {
                held.SetResult();
                await proceed.Task;
            }
        };
        try
        {
            var booking = _db.Booking.BookAsync(user.Id, driver.Id, 8m);
            await held.Task;
            Assert.True(await RecoverAsync() >= 1);
            proceed.SetResult();

            var late = await Assert.ThrowsAsync<RideBookingInfrastructureException>(() => booking);
            Assert.True(late.IsTransient);
        }
        finally
        {
            Steps.Step = null;
        }

        Assert.Empty(await _db.Rides.GetLatestForUserAsync(user.Id, 5));
        Assert.True((await _db.Drivers.GetAsync(driver.Id))!.Available);
        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);
    }

    [Fact]
    public async Task A_crash_after_the_ride_is_stored_needs_no_repair()
    {
        var (user, driver) = await PairAcrossAsync(1, 0);
        await Assert.ThrowsAsync<SimulatedCrashException>(() => CrashAtAsync("BookRide:stored", () => _db.Booking.BookAsync(user.Id, driver.Id, 6m)));
        var ride = Assert.Single(await _db.Rides.GetLatestForUserAsync(user.Id, 5));

        await RecoverAsync();

        Assert.Equal("COMMITTED", await DecisionAsync(ride.Id));
        Assert.False((await _db.Drivers.GetAsync(driver.Id))!.Available);
        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);
        await _db.Booking.CancelAsync(ride.Id);
        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);
    }

    [Fact]
    public async Task A_crash_before_a_refused_booking_releases_its_hold_is_repaired()
    {
        var (user, driver) = await PairAcrossAsync(0, 2);
        var first = await _db.NewDriverOnShardAsync(0);
        var active = await _db.Booking.BookAsync(user.Id, first.Id, 4m);
        await Assert.ThrowsAsync<SimulatedCrashException>(() => CrashAtAsync("BookRide:refused", () => _db.Booking.BookAsync(user.Id, driver.Id, 9m)));
        Assert.False((await _db.Drivers.GetAsync(driver.Id))!.Available);

        Assert.True(await RecoverAsync() >= 1);

        Assert.True((await _db.Drivers.GetAsync(driver.Id))!.Available);
        await _db.Booking.CancelAsync(active.Id);
        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);
    }

    [Theory]
    [InlineData("CompleteRide:committed", true)]
    [InlineData("CancelRide:committed", false)]
    [InlineData("Relay:applied", true)]
    [InlineData("Relay:applied", false)]
    public async Task A_crash_between_the_ride_change_and_the_drivers_release_is_relayed_once(string step, bool complete)
    {
        var (user, driver) = await PairAcrossAsync(3, 1);
        var ride = await _db.Booking.BookAsync(user.Id, driver.Id, 19m);
        await _db.Booking.AcceptAsync(ride.Id, driver.Id);
        var before = (await _db.Rides.GetDriverEarningsAsync()).SingleOrDefault(e => e.DriverId == driver.Id)?.TotalEarnings ?? 0m;

        await Assert.ThrowsAsync<SimulatedCrashException>(() => CrashAtAsync(step, () => complete ? _db.Booking.CompleteAsync(ride.Id) : _db.Booking.CancelAsync(ride.Id)));
        Assert.Equal(complete ? RideStatus.Completed : RideStatus.Cancelled, (await _db.Rides.GetAsync(ride.Id))!.Status);

        Assert.True(await RecoverAsync() >= 1);
        Assert.Equal(0, await Recovery.RunAsync());

        Assert.True((await _db.Drivers.GetAsync(driver.Id))!.Available);
        var after = (await _db.Rides.GetDriverEarningsAsync()).SingleOrDefault(e => e.DriverId == driver.Id)?.TotalEarnings ?? 0m;
        Assert.Equal(before + (complete ? 19m : 0m), after);
        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);
    }

    [Fact]
    public async Task Recovery_passes_running_at_once_from_two_processes_repair_everything_once()
    {
        var broken = new List<(Driver Driver, Ride? Ride)>();
        for (var i = 0; i < 4; i++)
        {
            var (user, driver) = await PairAcrossAsync(i, (i + 1) % 4);
            if (i % 2 == 0)
            {
                await Assert.ThrowsAsync<SimulatedCrashException>(() => CrashAtAsync("BookRide:held", () => _db.Booking.BookAsync(user.Id, driver.Id, 3m)));
                broken.Add((driver, null));
            }
            else
            {
                var ride = await _db.Booking.BookAsync(user.Id, driver.Id, 30m);
                await _db.Booking.AcceptAsync(ride.Id, driver.Id);
                await Assert.ThrowsAsync<SimulatedCrashException>(() => CrashAtAsync("CompleteRide:committed", () => _db.Booking.CompleteAsync(ride.Id)));
                broken.Add((driver, ride));
            }
        }

        await using var second = new ShardedServices(fixture.Cluster, o => o.RecoveryGracePeriod = TimeSpan.FromSeconds(1));
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        var repairs = await Task.WhenAll(Recovery.RunAsync(), second.Services.GetRequiredService<IRideBookingRecovery>().RunAsync(), Recovery.RunAsync());
        output.WriteLine($"repairs per pass: {string.Join(", ", repairs)}");

        Assert.True(repairs.Sum() >= 4);
        foreach (var (driver, ride) in broken)
        {
            Assert.True((await _db.Drivers.GetAsync(driver.Id))!.Available);
        }

        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);
    }

    [Fact]
    public async Task The_background_service_runs_recovery_when_an_interval_is_set()
    {
        await using var host = new ShardedServices(fixture.Cluster, o =>
        {
            o.RecoveryGracePeriod = TimeSpan.FromSeconds(1);
            o.RecoveryInterval = TimeSpan.FromSeconds(1);
        });
        var (user, driver) = await PairAcrossAsync(1, 3);
        await Assert.ThrowsAsync<SimulatedCrashException>(() => CrashAtAsync("BookRide:held", () => _db.Booking.BookAsync(user.Id, driver.Id, 2m)));
        var service = Assert.Single(host.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>());
        await service.StartAsync(CancellationToken.None);
        try
        {
            await ShardedServices.WaitUntilAsync(() => _db.Drivers.GetAsync(driver.Id).GetAwaiter().GetResult()!.Available, "the background recovery releasing the driver", seconds: 30);
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }

        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);
    }

    private async Task<long> HeldRideAsync(Driver driver)
    {
        await using var connection = new MySqlConnection(fixture.Cluster.Shards[_db.Resolver.PhysicalShardOf(driver.Id)].Primary);
        return await connection.ExecuteScalarAsync<long>("SELECT ride_id FROM driver_holds WHERE driver_id = @Id", new { driver.Id });
    }

    private async Task<string?> DecisionAsync(long rideId)
    {
        await using var connection = new MySqlConnection(fixture.Cluster.Shards[_db.Resolver.PhysicalShardOf(rideId)].Primary);
        return await connection.ExecuteScalarAsync<string?>("SELECT outcome FROM cross_shard_decisions WHERE id = @rideId", new { rideId });
    }
}
