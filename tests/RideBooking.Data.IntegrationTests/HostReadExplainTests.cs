using Dapper;
using RideBooking.Data.Internal;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// The host reads are served by the indexes they were written for (as <see cref="ExplainTests"/> does for the other
/// queries), on a table with enough rows that the optimizer cares: paging reads a range of ix_rides_user_created in index
/// order, the current rides read the unique active-ride indexes, the payment of a ride the payments' ride index.
/// </summary>
public sealed class HostReadExplainTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private const long BaseId = 2_000_000;
    private const long UserId = BaseId + 7;
    private const long ActiveUserId = BaseId + 199;
    private const long ActiveDriverId = BaseId + 49;
    private const long ActiveRideId = BaseId + 9_000;
    private const long PaidRideId = BaseId + 123;
    private static readonly DateTime Start = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public async Task InitializeAsync()
    {
        await using var connection = await db.OpenAsync();
        if (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides") > 0)
        {
            return;
        }

        // 200 users, 50 drivers, 4000 completed rides over a few months (every fifth instant shared by two rides),
        // one active ride, one payment, one hold.
        await connection.ExecuteAsync("INSERT INTO users (id, name, phone, created_at) VALUES (@Id, 'u', CONCAT('p', @Id), @At)",
            Enumerable.Range(0, 200).Select(i => new { Id = BaseId + i, At = Start }));
        await connection.ExecuteAsync("INSERT INTO drivers (id, name, vehicle_number, available, created_at) VALUES (@Id, 'd', 'v', TRUE, @At)",
            Enumerable.Range(0, 50).Select(i => new { Id = BaseId + i, At = Start }));
        await connection.ExecuteAsync("INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at) VALUES (@Id, @UserId, @DriverId, 'COMPLETED', 10.5, @At, @At)",
            Enumerable.Range(0, 4000).Select(i => new { Id = BaseId + i, UserId = BaseId + (i % 200), DriverId = BaseId + (i % 50), At = Start.AddMinutes(i / 2 * 37) }));
        await connection.ExecuteAsync("INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at) VALUES (@Id, @UserId, @DriverId, 'ACCEPTED', 10.5, @At, @At)",
            new { Id = ActiveRideId, UserId = ActiveUserId, DriverId = ActiveDriverId, At = Start.AddYears(1) });
        await connection.ExecuteAsync("INSERT INTO payments (id, ride_id, transaction_id, amount, status, created_at, updated_at) VALUES (@Id, @RideId, 'txn-explain', 10.5, 'PENDING', @At, @At)",
            new { Id = BaseId, RideId = PaidRideId, At = Start });
        await connection.ExecuteAsync("INSERT INTO driver_holds (driver_id, ride_id, held_at) VALUES (@DriverId, @RideId, @At)", new { DriverId = ActiveDriverId, RideId = ActiveRideId, At = Start });
        await connection.ExecuteAsync("ANALYZE TABLE users, drivers, rides, payments, driver_holds");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<List<IDictionary<string, object>>> ExplainAsync(string sql, object parameters)
    {
        await using var connection = await db.OpenAsync();
        // MySqlConnector substitutes the parameters client-side, so EXPLAIN sees the statement the library sends.
        var rows = await connection.QueryAsync("EXPLAIN " + sql, parameters);
        return rows.Select(r => (IDictionary<string, object>)r).ToList();
    }

    private static string Text(IDictionary<string, object> row, string column) =>
        row.TryGetValue(column, out var value) ? value?.ToString() ?? string.Empty : string.Empty;

    [Fact]
    public async Task A_page_after_a_cursor_reads_a_range_of_the_user_created_index_in_index_order()
    {
        // The cursor of a ride in the middle of the user's rides, on an instant two rides share.
        var plan = Assert.Single(await ExplainAsync(RideRepository.RidesPageForUser, new { UserId, CreatedAt = Start.AddMinutes(1000 / 2 * 37), Id = BaseId + 1007, Limit = 21 }));
        Assert.Equal("ix_rides_user_created", Text(plan, "key"));
        Assert.Equal("range", Text(plan, "type"));
        Assert.DoesNotContain("filesort", Text(plan, "Extra"), StringComparison.OrdinalIgnoreCase);

        // The first page is the latest-rides query.
        var first = Assert.Single(await ExplainAsync(RideRepository.LatestRidesForUser, new { UserId, Limit = 21 }));
        Assert.Equal("ix_rides_user_created", Text(first, "key"));
        Assert.DoesNotContain("filesort", Text(first, "Extra"), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_current_ride_of_a_user_or_a_driver_is_one_lookup_of_a_unique_active_ride_index()
    {
        var user = Assert.Single(await ExplainAsync(RideRepository.CurrentRideForUser, new { UserId = ActiveUserId }));
        Assert.Equal(("uq_rides_active_user", "const"), (Text(user, "key"), Text(user, "type")));
        var driver = Assert.Single(await ExplainAsync(RideRepository.CurrentRideForDriver, new { DriverId = ActiveDriverId }));
        Assert.Equal(("uq_rides_active_driver", "const"), (Text(driver, "key"), Text(driver, "type")));

        // The hold and the availability: primary keys only.
        var hold = await ExplainAsync("SELECT (SELECT ride_id FROM driver_holds WHERE driver_id = @DriverId) AS HeldFor, (SELECT available FROM drivers WHERE id = @DriverId) AS Available", new { DriverId = ActiveDriverId });
        Assert.All(hold.Where(row => Text(row, "table") is "driver_holds" or "drivers"), row => Assert.Equal("PRIMARY", Text(row, "key")));
        Assert.DoesNotContain(hold, row => Text(row, "type") == "ALL");
        Assert.Contains(RideRepository.CurrentRideForDriver, RideRepository.CurrentRideAndHoldForDriver, StringComparison.Ordinal);
        Assert.Contains("FROM driver_holds WHERE driver_id = @DriverId", RideRepository.CurrentRideAndHoldForDriver, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_payment_of_a_ride_reads_the_payments_ride_index()
    {
        var plan = Assert.Single(await ExplainAsync(PaymentRepository.PaymentForRide, new { RideId = PaidRideId }));
        // Whichever index of payments leads with ride_id (unique while a ride has one payment, plain when failed attempts are kept).
        await using var connection = await db.OpenAsync();
        var rideIndexes = (await connection.QueryAsync<string>(
            "SELECT index_name FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'payments' AND column_name = 'ride_id' AND seq_in_index = 1")).ToList();
        Assert.Contains(Text(plan, "key"), rideIndexes);
        Assert.NotEqual("ALL", Text(plan, "type"));
    }
}
