using Dapper;

namespace RideBooking.Data.IntegrationTests;

public sealed class QueryTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Latest_rides_come_newest_first_with_ties_broken_by_id_and_limited()
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var ids = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            var ride = await db.Booking.BookAsync(user.Id, driver.Id, i);
            await db.Booking.CancelAsync(ride.Id);
            ids.Add(ride.Id);
        }

        // Two rides booked at the same instant: the higher id comes first.
        await using (var connection = await db.OpenAsync())
        {
            await connection.ExecuteAsync("UPDATE rides SET created_at = '2030-01-01 00:00:00' WHERE id IN @Ids", new { Ids = new[] { ids[1], ids[3] } });
        }

        var latest = await db.Rides.GetLatestForUserAsync(user.Id, 3);
        Assert.Equal([ids[3], ids[1], ids[4]], latest.Select(r => r.Id));
        Assert.All(latest, r => Assert.Equal(user.Id, r.UserId));
        Assert.Equal(5, (await db.Rides.GetLatestForUserAsync(user.Id, 100)).Count);
        Assert.Empty(await db.Rides.GetLatestForUserAsync(long.MaxValue, 10));
    }

    [Fact]
    public async Task Available_drivers_are_the_ones_without_an_active_ride()
    {
        var user = await db.NewUserAsync();
        var busy = await db.NewDriverAsync();
        var free = await db.NewDriverAsync();
        await db.Booking.BookAsync(user.Id, busy.Id, 1m);

        var available = await db.Drivers.GetAvailableAsync(1000);
        Assert.Contains(available, d => d.Id == free.Id);
        Assert.DoesNotContain(available, d => d.Id == busy.Id);
        Assert.All(available, d => Assert.True(d.Available));
        Assert.Equal(available.OrderBy(d => d.Id).Select(d => d.Id), available.Select(d => d.Id));
        Assert.Single(await db.Drivers.GetAvailableAsync(1));
    }
}
