using Dapper;

namespace RideBooking.Data.IntegrationTests;

/// <summary>The earnings rollup must give exactly what the brief's window query over all rides gives.</summary>
public sealed class RankingTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private const string BriefEarnings = """
        SELECT driver_id AS DriverId, SUM(fare) AS TotalEarnings
        FROM rides WHERE status = 'COMPLETED' GROUP BY driver_id ORDER BY driver_id
        """;

    private const string BriefTopDrivers = """
        SELECT DriverId, Earnings, `Rank` FROM (
          SELECT driver_id AS DriverId, SUM(fare) AS Earnings, CAST(RANK() OVER (ORDER BY SUM(fare) DESC) AS SIGNED) AS `Rank`
          FROM rides WHERE status = 'COMPLETED' GROUP BY driver_id) t
        WHERE `Rank` <= @Top ORDER BY `Rank`, DriverId
        """;

    [Fact]
    public async Task Rollup_ranking_equals_the_window_query_over_rides_ties_included()
    {
        var random = new Random(20261126);
        var drivers = new List<Driver>();
        for (var i = 0; i < 12; i++)
        {
            drivers.Add(await db.NewDriverAsync());
        }

        var users = new List<User>();
        for (var i = 0; i < 6; i++)
        {
            users.Add(await db.NewUserAsync());
        }

        // Fares from a small set, so that sums tie often.
        for (var i = 0; i < 60; i++)
        {
            var user = users[i % users.Count];
            var driver = drivers[random.Next(drivers.Count)];
            var ride = await db.Booking.BookAsync(user.Id, driver.Id, random.Next(1, 4) * 10m);
            if (random.Next(4) == 0)
            {
                await db.Booking.CancelAsync(ride.Id);
                continue;
            }

            await db.Booking.AcceptAsync(ride.Id, driver.Id);
            await db.Booking.CompleteAsync(ride.Id);
        }

        await using var connection = await db.OpenAsync();
        var expectedEarnings = (await connection.QueryAsync<DriverEarnings>(BriefEarnings)).ToList();
        Assert.Equal(expectedEarnings, await db.Rides.GetDriverEarningsAsync());

        for (var top = 1; top <= 13; top++)
        {
            var expected = (await connection.QueryAsync<RankedDriver>(BriefTopDrivers, new { Top = top })).ToList();
            var actual = await db.Rides.GetTopDriversAsync(top);
            Assert.Equal(expected, actual);
            Assert.True(actual.Count >= Math.Min(top, expectedEarnings.Count));
        }

        Assert.True(
            expectedEarnings.GroupBy(e => e.TotalEarnings).Any(g => g.Count() > 1),
            "The random data should contain tied earnings; change the seed if not.");
    }
}
