using Dapper;
using RideBooking.Data.Internal;

namespace RideBooking.Data.IntegrationTests;

/// <summary>Every shipped query is backed by the index it was designed for, on a table with enough rows that the optimizer cares.</summary>
public sealed class ExplainTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private long _userId;
    private long _rideId;

    public async Task InitializeAsync()
    {
        const long baseId = 1_000_000;
        _userId = baseId + 7;
        _rideId = baseId + 123;
        await using var connection = await db.OpenAsync();
        if (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides") > 0)
        {
            return;
        }

        // 200 users, 50 drivers, 4000 rides over a few months, plus the rollup.
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        await connection.ExecuteAsync("INSERT INTO users (id, name, phone, created_at) VALUES (@Id, 'u', CONCAT('p', @Id), @At)",
            Enumerable.Range(0, 200).Select(i => new { Id = baseId + i, At = start }));
        await connection.ExecuteAsync("INSERT INTO drivers (id, name, vehicle_number, available, created_at) VALUES (@Id, 'd', 'v', TRUE, @At)",
            Enumerable.Range(0, 50).Select(i => new { Id = baseId + i, At = start }));
        await connection.ExecuteAsync("INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at) VALUES (@Id, @UserId, @DriverId, 'COMPLETED', 10.5, @At, @At)",
            Enumerable.Range(0, 4000).Select(i => new { Id = baseId + i, UserId = baseId + (i % 200), DriverId = baseId + (i % 50), At = start.AddMinutes(i * 37) }));
        await connection.ExecuteAsync("INSERT INTO driver_earnings (driver_id, total_earnings, completed_rides, updated_at) VALUES (@Id, @Total, 80, @At)",
            Enumerable.Range(0, 50).Select(i => new { Id = baseId + i, Total = 840m + i, At = start }));
        await connection.ExecuteAsync("ANALYZE TABLE users, drivers, rides, driver_earnings");
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
    public async Task Latest_rides_read_the_user_created_index_without_filesort()
    {
        var plan = Assert.Single(await ExplainAsync(RideRepository.LatestRidesForUser, new { UserId = _userId, Limit = 10 }));
        Assert.Equal("ix_rides_user_created", Text(plan, "key"));
        Assert.Equal("ref", Text(plan, "type"));
        Assert.DoesNotContain("filesort", Text(plan, "Extra"), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("rides")]
    [InlineData("users")]
    [InlineData("drivers")]
    public async Task Lookups_by_id_use_the_primary_key(string table)
    {
        var sql = table switch
        {
            "rides" => RideRepository.RideById,
            "users" => UserRepository.UserById,
            _ => DriverRepository.DriverById,
        };
        var plan = Assert.Single(await ExplainAsync(sql, new { Id = table == "rides" ? _rideId : _userId }));
        Assert.Equal("PRIMARY", Text(plan, "key"));
        Assert.Equal("const", Text(plan, "type"));
    }

    [Fact]
    public async Task Available_drivers_read_the_availability_index()
    {
        var plan = Assert.Single(await ExplainAsync(DriverRepository.AvailableDrivers, new { Limit = 10 }));
        Assert.Equal("ix_drivers_available", Text(plan, "key"));
        Assert.DoesNotContain("filesort", Text(plan, "Extra"), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Payment_lookup_uses_the_transaction_unique_key()
    {
        var plan = Assert.Single(await ExplainAsync(PaymentRepository.PaymentByTransactionId, new { TransactionId = "t" }));
        Assert.Contains(Text(plan, "key"), new[] { "uq_payments_transaction", string.Empty });
        Assert.NotEqual("ALL", Text(plan, "type"));
    }

    [Fact]
    public async Task Earnings_read_the_rollup_and_never_touch_rides()
    {
        var plan = await ExplainAsync(RideRepository.EarningsPerDriver, new { });
        Assert.DoesNotContain(plan, row => Text(row, "table") == "rides");
        Assert.All(plan, row => Assert.Equal("driver_earnings", Text(row, "table")));
    }

    [Fact]
    public async Task Ranking_reads_a_range_of_the_earnings_index_not_the_whole_rollup()
    {
        // One statement: the threshold is a subquery read from the top of the index, the ranking a range of the same index.
        var plan = await ExplainAsync(RideRepository.TopDrivers, new { Skip = 4 });
        var scans = plan.Where(row => Text(row, "table") == "driver_earnings").ToList();
        Assert.Equal(2, scans.Count);
        Assert.All(scans, scan => Assert.Equal("ix_driver_earnings_total", Text(scan, "key")));
        Assert.Contains(scans, scan => Text(scan, "type") == "range");
        Assert.DoesNotContain(plan, row => Text(row, "table") == "rides");

        var subquery = await ExplainAsync("SELECT total_earnings FROM driver_earnings ORDER BY total_earnings DESC LIMIT 1 OFFSET @Skip", new { Skip = 4 });
        Assert.Equal("ix_driver_earnings_total", Text(Assert.Single(subquery), "key"));
    }

    [Fact]
    public async Task No_shipped_rides_query_scans_the_whole_table()
    {
        foreach (var (sql, args) in new (string, object)[]
        {
            (RideRepository.RideById, new { Id = _rideId }),
            (RideRepository.LatestRidesForUser, new { UserId = _userId, Limit = 100 }),
        })
        {
            Assert.All(await ExplainAsync(sql, args), row => Assert.NotEqual("ALL", Text(row, "type")));
        }
    }
}
