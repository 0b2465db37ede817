using Dapper;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// The reads a host needs beside the writes, on one database: the current ride of a user and of a driver, the payment
/// of a ride and keyset paging of a user's rides.
/// </summary>
public sealed class HostReadApiTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static long _nextRideId = 7_000_000_000_000 + (Environment.ProcessId % 1000 * 1_000_000L);

    [Fact]
    public async Task The_current_ride_follows_the_ride_through_its_life_for_the_user_and_the_driver()
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        Assert.Null(await db.Rides.GetCurrentForUserAsync(user.Id));
        Assert.Null(await db.Rides.GetCurrentForDriverAsync(driver.Id));

        var ride = await db.Booking.BookAsync(user.Id, driver.Id, 12.5m);
        Assert.Equal(ride, await db.Rides.GetCurrentForUserAsync(user.Id));
        Assert.Equal(ride, await db.Rides.GetCurrentForDriverAsync(driver.Id));

        var accepted = await db.Booking.AcceptAsync(ride.Id, driver.Id);
        Assert.Equal(accepted, await db.Rides.GetCurrentForUserAsync(user.Id));
        Assert.Equal(RideStatus.Accepted, (await db.Rides.GetCurrentForDriverAsync(driver.Id))!.Status);

        await db.Booking.CompleteAsync(ride.Id);
        Assert.Null(await db.Rides.GetCurrentForUserAsync(user.Id));
        Assert.Null(await db.Rides.GetCurrentForDriverAsync(driver.Id));

        var next = await db.Booking.BookAsync(user.Id, driver.Id, 3m);
        Assert.Equal(next.Id, (await db.Rides.GetCurrentForDriverAsync(driver.Id))!.Id);
        await db.Booking.CancelAsync(next.Id);
        Assert.Null(await db.Rides.GetCurrentForUserAsync(user.Id));
        Assert.Null(await db.Rides.GetCurrentForDriverAsync(driver.Id));

        Assert.Null(await db.Rides.GetCurrentForUserAsync(long.MaxValue));
        Assert.Null(await db.Rides.GetCurrentForDriverAsync(long.MaxValue));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Rides.GetCurrentForUserAsync(0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Rides.GetCurrentForDriverAsync(-1));
    }

    [Fact]
    public async Task The_payment_of_a_ride_is_read_by_ride_id_with_its_current_status()
    {
        var (ride, _) = await CompletedRideAsync(40m);
        Assert.Null(await db.Payments.GetForRideAsync(ride.Id));
        Assert.Null(await db.Payments.GetForRideAsync(long.MaxValue));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Payments.GetForRideAsync(0));

        var txn = $"txn-for-ride-{ride.Id}";
        var recorded = await db.Payments.RecordAsync(ride.Id, txn, 40m);
        Assert.Equal(recorded.Payment, await db.Payments.GetForRideAsync(ride.Id));

        await db.Payments.SetStatusAsync(txn, PaymentStatus.Failed);
        var failed = await db.Payments.GetForRideAsync(ride.Id);
        Assert.Equal((recorded.Payment.Id, PaymentStatus.Failed), (failed!.Id, failed.Status));
    }

    [Fact]
    public async Task Paging_walks_every_ride_once_newest_first_with_equal_times_ordered_by_id()
    {
        var user = await db.NewUserAsync();
        var start = new DateTime(2026, 3, 1, 8, 0, 0, DateTimeKind.Utc);
        // 5 instants with 1, 2, 3, 4 and 5 rides each; ids deliberately not in time order.
        var seeded = new List<(long Id, DateTime At)>();
        for (var instant = 0; instant < 5; instant++)
        {
            for (var k = 0; k <= instant; k++)
            {
                seeded.Add((NextRideId() + (k % 2 == 0 ? 500 : 0), start.AddMinutes(instant).AddTicks(10 * instant)));
            }
        }

        await InsertRidesAsync(user.Id, seeded);
        var expected = seeded.OrderByDescending(r => r.At).ThenByDescending(r => r.Id).Select(r => r.Id).ToList();

        foreach (var pageSize in new[] { 1, 2, 4, 15, 100 })
        {
            var walked = await WalkAsync(user.Id, pageSize);
            Assert.Equal(expected, walked.SelectMany(p => p.Items).Select(r => r.Id).ToList());
            Assert.All(walked.SkipLast(1), page => Assert.Equal(pageSize, page.Items.Count));
            Assert.Null(walked[^1].NextCursor);
        }

        // The first page equals the latest rides.
        Assert.Equal((await db.Rides.GetLatestForUserAsync(user.Id, 7)).Select(r => r.Id), (await db.Rides.GetPageForUserAsync(user.Id, 7)).Items.Select(r => r.Id));
        var none = await db.Rides.GetPageForUserAsync(long.MaxValue, 10);
        Assert.Empty(none.Items);
        Assert.Null(none.NextCursor);
    }

    [Fact]
    public async Task Rides_booked_while_paging_neither_repeat_nor_push_rides_out_of_later_pages()
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var start = new DateTime(2026, 2, 1, 8, 0, 0, DateTimeKind.Utc);
        var seeded = Enumerable.Range(0, 12).Select(i => (NextRideId(), start.AddMinutes(i / 2))).ToList();
        await InsertRidesAsync(user.Id, seeded);
        var before = (await db.Rides.GetLatestForUserAsync(user.Id, 100)).Select(r => r.Id).ToList();

        var seen = new List<long>();
        string? cursor = null;
        var booked = new List<long>();
        do
        {
            var page = await db.Rides.GetPageForUserAsync(user.Id, 5, cursor);
            seen.AddRange(page.Items.Select(r => r.Id));
            cursor = page.NextCursor;

            // A new ride between two pages: newer than every ride already paged, so it belongs before the cursor.
            var ride = await db.Booking.BookAsync(user.Id, driver.Id, 1m);
            await db.Booking.CancelAsync(ride.Id);
            booked.Add(ride.Id);
        }
        while (cursor is not null);

        Assert.Equal(before, seen);
        Assert.Equal(before.Count + booked.Count, (await db.Rides.GetLatestForUserAsync(user.Id, 100)).Count);
    }

    [Fact]
    public async Task A_cursor_is_checked_limits_are_checked_and_a_cursor_of_another_user_is_refused()
    {
        var user = await db.NewUserAsync();
        var other = await db.NewUserAsync();
        await InsertRidesAsync(user.Id, Enumerable.Range(0, 3).Select(i => (NextRideId(), new DateTime(2026, 1, 5, 0, i, 0, DateTimeKind.Utc))).ToList());
        var first = await db.Rides.GetPageForUserAsync(user.Id, 2);
        Assert.NotNull(first.NextCursor);

        var foreign = await Assert.ThrowsAsync<ArgumentException>(() => db.Rides.GetPageForUserAsync(other.Id, 2, first.NextCursor));
        Assert.Equal("cursor", foreign.ParamName);
        foreach (var bad in new[] { "", "x", "not a cursor", first.NextCursor![..^2], first.NextCursor + "AA", new string('A', 200) })
        {
            var ex = await Assert.ThrowsAsync<ArgumentException>(() => db.Rides.GetPageForUserAsync(user.Id, 2, bad));
            Assert.Equal("cursor", ex.ParamName);
        }

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Rides.GetPageForUserAsync(user.Id, 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Rides.GetPageForUserAsync(user.Id, 101));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Rides.GetPageForUserAsync(0, 10));
        Assert.Single((await db.Rides.GetPageForUserAsync(user.Id, 2, first.NextCursor)).Items);
    }

    private async Task<List<RidePage>> WalkAsync(long userId, int pageSize)
    {
        var pages = new List<RidePage>();
        string? cursor = null;
        do
        {
            var page = await db.Rides.GetPageForUserAsync(userId, pageSize, cursor);
            pages.Add(page);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return pages;
    }

    private static long NextRideId() => Interlocked.Add(ref _nextRideId, 1000);

    /// <summary>Completed rides with chosen ids and times, written straight to the table (the library stamps the current time).</summary>
    private async Task InsertRidesAsync(long userId, IReadOnlyList<(long Id, DateTime At)> rides)
    {
        await using var connection = await db.OpenAsync();
        await connection.ExecuteAsync(
            "INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at) VALUES (@Id, @UserId, 1, 'COMPLETED', 5.00, @At, @At)",
            rides.Select(r => new { r.Id, UserId = userId, r.At }));
    }

    private async Task<(Ride Ride, Driver Driver)> CompletedRideAsync(decimal fare)
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var ride = await db.Booking.BookAsync(user.Id, driver.Id, fare);
        await db.Booking.AcceptAsync(ride.Id, driver.Id);
        return (await db.Booking.CompleteAsync(ride.Id), driver);
    }
}

/// <summary>
/// The payment of a ride that keeps its failed attempts and at most one pending or succeeded payment (schema 009): the
/// live payment comes first, otherwise the latest failed attempt.
/// </summary>
public sealed class PaymentAttemptsReadTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task The_live_payment_wins_over_failed_attempts_and_the_latest_failed_attempt_comes_next()
    {
        await using var connection = await db.OpenAsync();
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var ride = await db.Booking.BookAsync(user.Id, driver.Id, 20m);
        await db.Booking.AcceptAsync(ride.Id, driver.Id);
        await db.Booking.CompleteAsync(ride.Id);
        var at = new DateTime(2026, 4, 1, 9, 0, 0, DateTimeKind.Utc);
        const string Insert = "INSERT INTO payments (id, ride_id, transaction_id, amount, status, created_at, updated_at) VALUES (@Id, @RideId, @Txn, 20.00, @Status, @At, @At)";

        await connection.ExecuteAsync(Insert, new { Id = ride.Id + 1, RideId = ride.Id, Txn = $"a1-{ride.Id}", Status = "FAILED", At = at });
        await connection.ExecuteAsync(Insert, new { Id = ride.Id + 2, RideId = ride.Id, Txn = $"a2-{ride.Id}", Status = "FAILED", At = at.AddMinutes(5) });
        var latestFailed = await db.Payments.GetForRideAsync(ride.Id);
        Assert.Equal((ride.Id + 2, PaymentStatus.Failed), (latestFailed!.Id, latestFailed.Status));

        await connection.ExecuteAsync(Insert, new { Id = ride.Id + 3, RideId = ride.Id, Txn = $"a3-{ride.Id}", Status = "PENDING", At = at.AddMinutes(10) });
        await connection.ExecuteAsync(Insert, new { Id = ride.Id + 4, RideId = ride.Id, Txn = $"a4-{ride.Id}", Status = "FAILED", At = at.AddMinutes(15) });
        var live = await db.Payments.GetForRideAsync(ride.Id);
        Assert.Equal((ride.Id + 3, PaymentStatus.Pending, $"a3-{ride.Id}"), (live!.Id, live.Status, live.TransactionId));

        await connection.ExecuteAsync("UPDATE payments SET status = 'SUCCEEDED' WHERE id = @Id", new { Id = ride.Id + 3 });
        Assert.Equal(PaymentStatus.Succeeded, (await db.Payments.GetForRideAsync(ride.Id))!.Status);
    }
}
