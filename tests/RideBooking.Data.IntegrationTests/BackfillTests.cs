using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace RideBooking.Data.IntegrationTests;

public sealed class BackfillTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private const string EarningsFromRides = """
        SELECT driver_id AS DriverId, SUM(fare) AS TotalEarnings
        FROM rides WHERE status = 'COMPLETED' GROUP BY driver_id ORDER BY driver_id
        """;

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(10_000)]
    public async Task The_backfill_rebuilds_the_rollup_from_rides_in_batches(int driversPerBatch)
    {
        var backfill = db.Services.GetRequiredService<IDriverEarningsBackfill>();
        // The administrator empties the tables (the application account deletes no ride or payment).
        await using var connection = await db.OpenAdminAsync();
        // Rides written without the library (as on a database that predates the rollup), and a rollup
        // that is wrong in every way: a wrong total, a driver without rides, a missing driver.
        await connection.ExecuteAsync("DELETE FROM payments; DELETE FROM rides; DELETE FROM driver_earnings");
        var random = new Random(driversPerBatch);
        var user = await db.NewUserAsync();
        var rides = Enumerable.Range(0, 300).Select(i => new
        {
            Id = 10_000_000L + i,
            UserId = user.Id,
            DriverId = 500L + random.Next(40),
            Status = random.Next(5) == 0 ? "CANCELLED" : "COMPLETED",
            Fare = random.Next(100, 5000) / 100m,
        });
        await connection.ExecuteAsync(
            "INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at) VALUES (@Id, @UserId, @DriverId, @Status, @Fare, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))", rides);
        await connection.ExecuteAsync("""
            INSERT INTO driver_earnings (driver_id, total_earnings, completed_rides, updated_at) VALUES
              (500, 1.00, 1, UTC_TIMESTAMP(6)), (999999, 42.00, 3, UTC_TIMESTAMP(6)), (1, 5.00, 1, UTC_TIMESTAMP(6))
            """);
        var expected = (await connection.QueryAsync<DriverEarnings>(EarningsFromRides)).ToList();

        var result = await backfill.RebuildAsync(driversPerBatch);

        Assert.Equal(expected, await db.Rides.GetDriverEarningsAsync());
        Assert.Equal(expected.Count, result.DriversWithEarnings);
        Assert.Equal((expected.Count / driversPerBatch) + 1, result.Batches);
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("""
            SELECT COUNT(*) FROM driver_earnings e
            WHERE e.completed_rides <> (SELECT COUNT(*) FROM rides r WHERE r.driver_id = e.driver_id AND r.status = 'COMPLETED')
            """));

        // Running it again changes nothing.
        await backfill.RebuildAsync(driversPerBatch);
        Assert.Equal(expected, await db.Rides.GetDriverEarningsAsync());
    }

    [Fact]
    public async Task The_backfill_is_safe_while_rides_are_being_completed()
    {
        var backfill = db.Services.GetRequiredService<IDriverEarningsBackfill>();
        var drivers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => db.NewDriverAsync()));
        var users = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => db.NewUserAsync()));

        // Six workers complete rides while the rollup is rebuilt again and again in batches of one driver.
        using var stop = new CancellationTokenSource();
        var rebuilds = Task.Run(async () =>
        {
            var runs = 0;
            while (!stop.IsCancellationRequested || runs == 0)
            {
                await backfill.RebuildAsync(1);
                runs++;
            }

            return runs;
        });
        await Task.WhenAll(Enumerable.Range(0, 6).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; i < 15; i++)
            {
                var ride = await db.Booking.BookAsync(users[worker].Id, drivers[worker].Id, 10m + i);
                await db.Booking.AcceptAsync(ride.Id, drivers[worker].Id);
                await db.Booking.CompleteAsync(ride.Id);
            }
        })));
        await stop.CancelAsync();
        Assert.True(await rebuilds > 0);

        await using var connection = await db.OpenAsync();
        var expected = (await connection.QueryAsync<DriverEarnings>(EarningsFromRides)).ToList();
        Assert.Equal(expected, await db.Rides.GetDriverEarningsAsync());
        Assert.All(drivers, d => Assert.Contains(expected, e => e.DriverId == d.Id && e.TotalEarnings == (15 * 10m) + 105m));
    }

    [Fact]
    public async Task First_completions_committed_while_a_window_is_rebuilt_are_kept_and_fail_nothing()
    {
        var backfill = db.Services.GetRequiredService<IDriverEarningsBackfill>();
        await using var connection = await db.OpenAdminAsync();
        await connection.ExecuteAsync("DELETE FROM payments; DELETE FROM rides; DELETE FROM driver_earnings");

        // Drivers who have never completed a ride: each one's first completion inserts its rollup row.
        const int Fresh = 20;
        const int Batch = 5_000;
        var users = await Task.WhenAll(Enumerable.Range(0, Fresh).Select(_ => db.NewUserAsync()));
        var drivers = await Task.WhenAll(Enumerable.Range(0, Fresh).Select(_ => db.NewDriverAsync()));
        var rides = new List<Ride>();
        for (var i = 0; i < Fresh; i++)
        {
            var ride = await db.Booking.BookAsync(users[i].Id, drivers[i].Id, 7m + i);
            rides.Add(await db.Booking.AcceptAsync(ride.Id, drivers[i].Id));
        }

        // In the same window, after the fresh drivers in key order, many drivers with earnings (rides written without the
        // library): rebuilding the window deletes and inserts their rollup rows, which takes a while after it has passed the
        // fresh drivers' keys.
        await connection.ExecuteAsync("""
            INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at)
            SELECT 20000000 + n, @UserId, @FirstDriver + n, 'COMPLETED', 10 + n % 90, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)
            FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d AS n
                  FROM (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) a
                  CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) b
                  CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) c
                  CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) e) digits
            WHERE n < @Count
            """, new { UserId = users[0].Id, FirstDriver = drivers.Max(d => d.Id) + 1, Count = Batch - Fresh - 1 });
        await backfill.RebuildAsync(Batch);

        // The window is rebuilt again and again while the first completions commit one after another.
        using var stop = new CancellationTokenSource();
        var rebuilds = Task.Run(async () =>
        {
            var runs = 0;
            while (!stop.IsCancellationRequested || runs == 0)
            {
                await backfill.RebuildAsync(Batch);
                runs++;
            }

            return runs;
        });
        try
        {
            var random = new Random(Fresh);
            foreach (var ride in rides)
            {
                await db.Booking.CompleteAsync(ride.Id);
                await Task.Delay(random.Next(5, 40));
            }
        }
        finally
        {
            await stop.CancelAsync();
        }

        Assert.True(await rebuilds > 0);
        var expected = (await connection.QueryAsync<DriverEarnings>(EarningsFromRides)).ToList();
        Assert.Equal(expected, await db.Rides.GetDriverEarningsAsync());
        Assert.All(rides, ride => Assert.Contains(new DriverEarnings(ride.DriverId, ride.Fare), expected));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10_001)]
    public async Task Batch_sizes_outside_the_range_are_refused(int driversPerBatch) =>
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Services.GetRequiredService<IDriverEarningsBackfill>().RebuildAsync(driversPerBatch));
}
