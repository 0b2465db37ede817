using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using Xunit.Abstractions;

namespace RideBooking.Data.IntegrationTests;

/// <summary>Routing over 4 real primaries with a replica each: every row on the shard the resolver names and on no other.</summary>
#pragma warning disable CA1001 // xunit disposes the services through IAsyncLifetime.DisposeAsync.
public sealed class ShardingTests(ClusterFixture fixture, ITestOutputHelper output) : IClassFixture<ClusterFixture>, IAsyncLifetime
#pragma warning restore CA1001
{
    private ShardedServices _db = null!;

    public Task InitializeAsync()
    {
        _db = new ShardedServices(fixture.Cluster);
        output.WriteLine($"cluster ready in {fixture.CreateTime.TotalSeconds:F1} s: {fixture.Cluster.Description}");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task Every_operation_writes_only_to_the_shard_the_resolver_names()
    {
        Assert.Equal(4, _db.Resolver.PhysicalShardCount);
        Assert.Equal(256, _db.Resolver.LogicalShardCount);
        for (var shard = 0; shard < 4; shard++)
        {
            var user = await _db.NewUserOnShardAsync(shard);
            var driver = await _db.NewDriverOnShardAsync(shard);
            Assert.Equal([shard], await _db.ShardsHoldingAsync("users", user.Id));
            Assert.Equal([shard], await _db.ShardsHoldingAsync("drivers", driver.Id));

            var ride = await _db.Booking.BookAsync(user.Id, driver.Id, 12.5m + shard);
            Assert.Equal(_db.Resolver.LogicalShardOf(user.Id), _db.Resolver.LogicalShardOf(ride.Id));
            await _db.Booking.AcceptAsync(ride.Id, driver.Id);
            await _db.Booking.CompleteAsync(ride.Id);
            var paid = await _db.Payments.RecordAsync(ride.Id, $"txn-route-{Guid.NewGuid():N}", ride.Fare);
            Assert.Equal(_db.Resolver.LogicalShardOf(user.Id), _db.Resolver.LogicalShardOf(paid.Payment.Id));
            Assert.Equal(PaymentStatus.Succeeded, (await _db.Payments.SetStatusAsync(paid.Payment.TransactionId, PaymentStatus.Succeeded)).Status);
            var cancelled = await _db.Booking.CancelAsync((await _db.Booking.BookAsync(user.Id, driver.Id, 3m)).Id);

            Assert.Equal([shard], await _db.ShardsHoldingAsync("rides", ride.Id));
            Assert.Equal([shard], await _db.ShardsHoldingAsync("rides", cancelled.Id));
            Assert.Equal([shard], await _db.ShardsHoldingAsync("payments", paid.Payment.Id));
            Assert.Equal([shard], await _db.ShardsHoldingAsync("driver_earnings", driver.Id, "driver_id"));

            // Reads find them through the resolver (the caller's own writes, whatever the replica's lag).
            Assert.Equal(user, await _db.Users.GetAsync(user.Id));
            Assert.Equal(RideStatus.Completed, (await _db.Rides.GetAsync(ride.Id))!.Status);
            Assert.Equal([cancelled.Id, ride.Id], (await _db.Rides.GetLatestForUserAsync(user.Id, 10)).Select(r => r.Id));
            Assert.Equal(PaymentStatus.Succeeded, (await _db.Payments.GetByTransactionIdAsync(paid.Payment.TransactionId))!.Status);
            Assert.True((await _db.Drivers.GetAsync(driver.Id))!.Available);
            Assert.Contains(await _db.Rides.GetDriverEarningsAsync(), e => e.DriverId == driver.Id && e.TotalEarnings == ride.Fare);
        }
    }

    [Fact]
    public async Task A_one_shard_booking_on_four_shards_with_replicas_still_takes_two_round_trips()
    {
        var user = await _db.NewUserOnShardAsync(2);
        var driver = await _db.NewDriverOnShardAsync(2);
        await _db.Booking.CancelAsync((await _db.Booking.BookAsync(user.Id, driver.Id, 1m)).Id);

        var trips = await RoundTripTests.RecordAsync(() => _db.Booking.BookAsync(user.Id, driver.Id, 10m));

        Assert.Equal(2, trips.Count);
        Assert.Equal([2], await _db.ShardsHoldingAsync("rides", driver.Id, "active_driver_id"));
    }

    [Fact]
    public async Task Reads_go_to_the_replicas_once_they_are_in_rotation()
    {
        await _db.WaitUntilReplicasInRotationAsync();
        var user = await _db.NewUserOnShardAsync(3);
        var replicaReadsBefore = _db.Count("ridebooking.reads", "shard=3", "target=replica");

        Assert.Equal(user, await _db.Users.GetAsync(user.Id));

        Assert.Equal(replicaReadsBefore + 1, _db.Count("ridebooking.reads", "shard=3", "target=replica"));
    }

    [Fact]
    public async Task A_shard_that_does_not_answer_fails_the_query_with_its_number_and_no_secret()
    {
        var closedPort = FreePort();
        await using var broken = new ShardedServices(fixture.Cluster, o => o.Shards.Add(new ShardOptions
        {
            Primary = $"Server=127.0.0.1;Port={closedPort};User ID=app;Password=secret-pw-5;Database=gone;Connection Timeout=2",
        }));

        foreach (var query in new Func<Task>[] { () => broken.Rides.GetTopDriversAsync(5), () => broken.Drivers.GetAvailableAsync(5), () => broken.Rides.GetDriverEarningsAsync() })
        {
            var down = await Assert.ThrowsAsync<ShardUnavailableException>(query);
            Assert.Equal(4, down.PhysicalShard);
            Assert.True(down.IsTransient);
            Assert.Contains("shard 4", down.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("secret-pw-5", down.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_storm_of_same_shard_work_over_four_shards_keeps_every_invariant_on_every_shard()
    {
        var drivers = new List<Driver>();
        var users = new List<User>();
        for (var shard = 0; shard < 4; shard++)
        {
            for (var i = 0; i < 4; i++)
            {
                drivers.Add(await _db.NewDriverOnShardAsync(shard));
            }

            for (var i = 0; i < 12; i++)
            {
                users.Add(await _db.NewUserOnShardAsync(shard));
            }
        }

        long attempts = 0, booked = 0, accepted = 0, completed = 0, cancelled = 0, paid = 0, conflicts = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 32).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            while (clock.Elapsed < TimeSpan.FromSeconds(5))
            {
                var user = users[random.Next(users.Count)];
                var sameShard = drivers.Where(d => _db.Resolver.PhysicalShardOf(d.Id) == _db.Resolver.PhysicalShardOf(user.Id)).ToList();
                var driver = sameShard[random.Next(sameShard.Count)];
                Interlocked.Increment(ref attempts);
                try
                {
                    var ride = await _db.Booking.BookAsync(user.Id, driver.Id, random.Next(1, 50));
                    Interlocked.Increment(ref booked);
                    if (random.Next(4) == 0)
                    {
                        await _db.Booking.CancelAsync(ride.Id);
                        Interlocked.Increment(ref cancelled);
                        continue;
                    }

                    await _db.Booking.AcceptAsync(ride.Id, driver.Id);
                    Interlocked.Increment(ref accepted);
                    await _db.Booking.CompleteAsync(ride.Id);
                    Interlocked.Increment(ref completed);
                    var txn = $"txn-storm-{ride.Id}";
                    await _db.Payments.RecordAsync(ride.Id, txn, ride.Fare);
                    await _db.Payments.RecordAsync(ride.Id, txn, ride.Fare);
                    Interlocked.Increment(ref paid);
                    _ = await _db.Rides.GetLatestForUserAsync(user.Id, 5);
                }
                catch (RideBookingException)
                {
                    Interlocked.Increment(ref conflicts);
                }
            }
        })));

        output.WriteLine($"storm over 4 shards, 32 workers, 5 s: {attempts} attempts, {booked} booked, {accepted} accepted, {completed} completed, {cancelled} cancelled, {paid} paid, {conflicts} conflicts");
        Assert.True(completed > 0);
        foreach (var shard in fixture.Cluster.Shards)
        {
            await using var connection = new MySqlConnection(shard.Primary);
            // A driver is unavailable exactly when it has an active ride.
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("""
                SELECT COUNT(*) FROM drivers d
                WHERE d.available <> (NOT EXISTS (SELECT 1 FROM rides r WHERE r.driver_id = d.id AND r.status IN ('REQUESTED', 'ACCEPTED')))
                """));
            // Earnings equal the completed fares; rides and payments sit with their user.
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("""
                SELECT COUNT(*) FROM drivers d LEFT JOIN driver_earnings e ON e.driver_id = d.id
                WHERE COALESCE(e.total_earnings, 0) <> (SELECT COALESCE(SUM(fare), 0) FROM rides r WHERE r.driver_id = d.id AND r.status = 'COMPLETED')
                """));
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides r LEFT JOIN users u ON u.id = r.user_id WHERE u.id IS NULL"));
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides r LEFT JOIN drivers d ON d.id = r.driver_id WHERE d.id IS NULL"));
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM (SELECT ride_id FROM payments GROUP BY ride_id HAVING COUNT(*) > 1) p"));
        }
    }

    [Fact]
    public async Task The_earnings_backfill_rebuilds_the_rollup_on_every_shard()
    {
        for (var shard = 0; shard < 4; shard++)
        {
            var user = await _db.NewUserOnShardAsync(shard);
            var driver = await _db.NewDriverOnShardAsync(shard);
            var ride = await _db.Booking.BookAsync(user.Id, driver.Id, 40m + shard);
            await _db.Booking.AcceptAsync(ride.Id, driver.Id);
            await _db.Booking.CompleteAsync(ride.Id);
        }

        var before = await _db.Rides.GetDriverEarningsAsync();
        foreach (var shard in fixture.Cluster.Shards)
        {
            await using var connection = new MySqlConnection(shard.Primary);
            await connection.ExecuteAsync("DELETE FROM driver_earnings");
        }

        var result = await _db.Services.GetRequiredService<IDriverEarningsBackfill>().RebuildAsync(driversPerBatch: 2);

        Assert.Equal(before.Count, result.DriversWithEarnings);
        Assert.True(result.Batches >= 4);
        // The backfill's own commits are read back through the replicas (read-your-writes).
        Assert.Equal(before, await _db.Rides.GetDriverEarningsAsync());
    }

    [Fact]
    public async Task The_earnings_backfill_sums_rides_of_every_shard_on_the_drivers_shard()
    {
        // Drivers with rides booked by users on other shards only, on their own shard only, and on both.
        var drivers = new[] { await _db.NewDriverOnShardAsync(1), await _db.NewDriverOnShardAsync(1), await _db.NewDriverOnShardAsync(2), await _db.NewDriverOnShardAsync(3) };
        var users = new[] { await _db.NewUserOnShardAsync(0), await _db.NewUserOnShardAsync(1), await _db.NewUserOnShardAsync(2), await _db.NewUserOnShardAsync(3) };
        var rides = new (int User, int Driver, decimal Fare)[]
        {
            (0, 0, 11m), (0, 0, 12m), (3, 0, 13m),
            (1, 1, 21m), (1, 1, 22m),
            (0, 2, 31m), (2, 2, 32m), (3, 2, 33m),
            (1, 3, 41m),
        };
        foreach (var (user, driver, fare) in rides)
        {
            var ride = await _db.Booking.BookAsync(users[user].Id, drivers[driver].Id, fare);
            await _db.Booking.AcceptAsync(ride.Id, drivers[driver].Id);
            await _db.Booking.CompleteAsync(ride.Id);
        }

        var before = await _db.Rides.GetDriverEarningsAsync();
        foreach (var (driver, index) in drivers.Select((d, i) => (d, i)))
        {
            Assert.Contains(before, e => e.DriverId == driver.Id && e.TotalEarnings == rides.Where(r => r.Driver == index).Sum(r => r.Fare));
        }

        foreach (var shard in fixture.Cluster.Shards)
        {
            await using var connection = new MySqlConnection(shard.Primary);
            await connection.ExecuteAsync("DELETE FROM driver_earnings");
        }

        // A rollup row on a shard the driver does not live on (as the per-shard rebuild used to write) goes too.
        await using (var stray = new MySqlConnection(fixture.Cluster.Shards[0].Primary))
        {
            await stray.ExecuteAsync(
                "INSERT INTO driver_earnings (driver_id, total_earnings, completed_rides, updated_at) VALUES (@Id, 99.00, 9, UTC_TIMESTAMP(6))", new { drivers[3].Id });
        }

        var result = await _db.Services.GetRequiredService<IDriverEarningsBackfill>().RebuildAsync(driversPerBatch: 2);

        Assert.Equal(before.Count, result.DriversWithEarnings);
        Assert.True(result.Batches >= 4);
        Assert.Equal(before, await _db.Rides.GetDriverEarningsAsync());
        foreach (var earnings in before)
        {
            Assert.Equal([_db.Resolver.PhysicalShardOf(earnings.DriverId)], await _db.ShardsHoldingAsync("driver_earnings", earnings.DriverId, "driver_id"));
        }

        var counts = new Dictionary<long, long>();
        foreach (var shard in fixture.Cluster.Shards)
        {
            await using var connection = new MySqlConnection(shard.Primary);
            foreach (var row in await connection.QueryAsync<(long DriverId, long Count)>("SELECT driver_id, completed_rides FROM driver_earnings"))
            {
                counts[row.DriverId] = row.Count;
            }
        }

        Assert.Equal(before.Count, counts.Count);
        foreach (var (driver, index) in drivers.Select((d, i) => (d, i)))
        {
            Assert.Equal(rides.Count(r => r.Driver == index), counts[driver.Id]);
        }
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
