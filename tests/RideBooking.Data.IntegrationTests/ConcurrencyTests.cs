using System.Diagnostics;
using System.Diagnostics.Metrics;
using Dapper;
using Xunit.Abstractions;

namespace RideBooking.Data.IntegrationTests;

/// <summary>Races decided by the database: each test asserts the final database state, never timings.</summary>
public sealed class ConcurrencyTests(DatabaseFixture db, ITestOutputHelper output) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Sixty_four_users_racing_for_one_driver_yield_exactly_one_booking()
    {
        var driver = await db.NewDriverAsync();
        var users = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => db.NewUserAsync()));

        var results = await RaceAsync(users, user => NullIfRefused<DriverUnavailableException>(() => db.Booking.BookAsync(user.Id, driver.Id, 15m)));

        var winner = Assert.Single(results, r => r is not null);
        await using var connection = await db.OpenAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides WHERE driver_id = @Id", new { driver.Id }));
        Assert.Equal(winner!.Id, await connection.ExecuteScalarAsync<long>("SELECT id FROM rides WHERE driver_id = @Id", new { driver.Id }));
        Assert.False((await db.Drivers.GetAsync(driver.Id))!.Available);
    }

    [Fact]
    public async Task One_user_booking_sixteen_drivers_at_once_gets_exactly_one_ride()
    {
        var user = await db.NewUserAsync();
        var drivers = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => db.NewDriverAsync()));

        var results = await RaceAsync(drivers, driver => NullIfRefused<ActiveRideExistsException>(() => db.Booking.BookAsync(user.Id, driver.Id, 15m)));

        var winner = Assert.Single(results, r => r is not null)!;
        await using var connection = await db.OpenAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides WHERE user_id = @Id", new { user.Id }));
        // Only the winner's driver is held; every loser's driver was released by the rollback.
        foreach (var driver in drivers)
        {
            Assert.Equal(driver.Id != winner.DriverId, (await db.Drivers.GetAsync(driver.Id))!.Available);
        }
    }

    [Fact]
    public async Task Thirty_two_concurrent_records_of_one_transaction_store_one_payment()
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var ride = await db.Booking.BookAsync(user.Id, driver.Id, 42m);
        await db.Booking.AcceptAsync(ride.Id, driver.Id);
        await db.Booking.CompleteAsync(ride.Id);
        var txn = "txn-" + Guid.NewGuid();

        var results = await RaceAsync(Enumerable.Range(0, 32), _ => db.Payments.RecordAsync(ride.Id, txn, 42m));

        Assert.Single(results, r => !r.AlreadyRecorded);
        Assert.Single(results.Select(r => r.Payment.Id).Distinct());
        await using var connection = await db.OpenAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM payments WHERE ride_id = @Id", new { ride.Id }));
    }

    [Fact]
    public async Task A_storm_of_bookings_keeps_every_invariant()
    {
        var drivers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => db.NewDriverAsync()));
        var users = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => db.NewUserAsync()));
        long attempts = 0, booked = 0, accepted = 0, completed = 0, cancelled = 0, conflicts = 0, retries = 0;

        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "RideBooking.Data" && instrument.Name == "ridebooking.transaction.retries")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref retries, value));
        listener.Start();

        var deadline = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, 32).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            for (var i = 0; i < 100_000 && deadline.Elapsed < TimeSpan.FromSeconds(4); i++)
            {
                Interlocked.Increment(ref attempts);
                var user = users[random.Next(users.Length)];
                var driver = drivers[random.Next(drivers.Length)];
                try
                {
                    var ride = await db.Booking.BookAsync(user.Id, driver.Id, random.Next(1, 50));
                    Interlocked.Increment(ref booked);
                    if (random.Next(3) == 0)
                    {
                        await db.Booking.CancelAsync(ride.Id);
                        Interlocked.Increment(ref cancelled);
                        continue;
                    }

                    await db.Booking.AcceptAsync(ride.Id, driver.Id);
                    Interlocked.Increment(ref accepted);
                    if (random.Next(4) == 0)
                    {
                        await db.Booking.CancelAsync(ride.Id);
                        Interlocked.Increment(ref cancelled);
                    }
                    else
                    {
                        await db.Booking.CompleteAsync(ride.Id);
                        Interlocked.Increment(ref completed);
                    }
                }
                catch (Exception ex) when (ex is DriverUnavailableException or ActiveRideExistsException)
                {
                    Interlocked.Increment(ref conflicts);
                }
            }
        })).ToList();
        await Task.WhenAll(workers);

        output.WriteLine($"storm: 32 workers, 8 drivers, 64 users, {deadline.Elapsed.TotalSeconds:F1} s: {attempts} booking attempts, {booked} booked, {accepted} accepted, {completed} completed, {cancelled} cancelled, {conflicts} conflicts, {retries} transaction retries");
        Assert.True(booked > 0, "some bookings must succeed");

        await using var connection = await db.OpenAsync();
        var driverIds = drivers.Select(d => d.Id).ToArray();
        // A driver is unavailable exactly when it has an active ride, and never has two.
        var perDriver = await connection.QueryAsync<(long Id, bool Available, long Active)>("""
            SELECT d.id, d.available, (SELECT COUNT(*) FROM rides r WHERE r.driver_id = d.id AND r.status IN ('REQUESTED', 'ACCEPTED'))
            FROM drivers d WHERE d.id IN @driverIds
            """, new { driverIds });
        Assert.All(perDriver, d =>
        {
            Assert.InRange(d.Active, 0, 1);
            Assert.Equal(d.Active == 0, d.Available);
        });
        // A user never has two active rides.
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("""
            SELECT COUNT(*) FROM (SELECT user_id FROM rides WHERE status IN ('REQUESTED', 'ACCEPTED') GROUP BY user_id HAVING COUNT(*) > 1) t
            """));
        // Every ride is in a legal state, and the counts match what the workers saw succeed.
        var states = (await connection.QueryAsync<(string Status, long Count)>("SELECT status, COUNT(*) FROM rides WHERE driver_id IN @driverIds GROUP BY status", new { driverIds }))
            .ToDictionary(s => s.Status, s => s.Count);
        Assert.All(states.Keys, s => Assert.Contains(s, new[] { "REQUESTED", "ACCEPTED", "COMPLETED", "CANCELLED" }));
        Assert.Equal(booked, states.Values.Sum());
        Assert.Equal(completed, states.GetValueOrDefault("COMPLETED"));
        Assert.Equal(cancelled, states.GetValueOrDefault("CANCELLED"));
        // The earnings rollup matches the rides it summarizes.
        var mismatched = await connection.ExecuteScalarAsync<long>("""
            SELECT COUNT(*) FROM (
              SELECT r.driver_id, SUM(r.fare) AS total, COUNT(*) AS n FROM rides r WHERE r.status = 'COMPLETED' AND r.driver_id IN @driverIds GROUP BY r.driver_id) t
            LEFT JOIN driver_earnings e ON e.driver_id = t.driver_id
            WHERE e.driver_id IS NULL OR e.total_earnings <> t.total OR e.completed_rides <> t.n
            """, new { driverIds });
        Assert.Equal(0, mismatched);
    }

    /// <summary>Starts every attempt, then releases them all at once.</summary>
    private static async Task<TResult[]> RaceAsync<TItem, TResult>(IEnumerable<TItem> items, Func<TItem, Task<TResult>> attempt)
    {
        using var start = new SemaphoreSlim(0);
        var attempts = items.Select(async item =>
        {
            await start.WaitAsync();
            return await attempt(item);
        }).ToList();
        start.Release(attempts.Count);
        return await Task.WhenAll(attempts);
    }

    private static async Task<Ride?> NullIfRefused<TRefusal>(Func<Task<Ride>> book)
        where TRefusal : RideBookingException
    {
        try
        {
            return await book();
        }
        catch (TRefusal)
        {
            return null;
        }
    }
}
