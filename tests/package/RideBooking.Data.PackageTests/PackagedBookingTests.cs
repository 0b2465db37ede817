using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using RideBooking.Data.Testing;

namespace RideBooking.Data.PackageTests;

/// <summary>A booking through the packed packages, against servers the packed test kit starts.</summary>
public sealed class PackagedBookingTests
{
    [Fact]
    public void The_library_and_the_test_kit_are_the_packed_packages()
    {
        var expected = Environment.GetEnvironmentVariable("RIDEBOOKING_PACKAGE_VERSION");
        foreach (var assembly in new[] { typeof(IRideBookingService).Assembly, typeof(RideBookingTestDatabase).Assembly })
        {
            var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
            Assert.Contains("-ci.", version, StringComparison.Ordinal);
            if (!string.IsNullOrEmpty(expected))
            {
                Assert.StartsWith(expected, version, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task A_ride_is_booked_accepted_completed_and_paid_on_a_server_of_the_test_kit()
    {
        await using var database = await RideBookingTestDatabase.CreateAsync();
        await using var services = new ServiceCollection()
            .AddRideBookingData(o => o.ConnectionString = database.ConnectionString)
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        await RunRideAsync(services);
    }

    [Fact]
    public async Task A_ride_whose_user_and_driver_live_on_different_shards_is_booked_on_a_cluster_of_the_test_kit()
    {
        await using var cluster = await RideBookingTestCluster.CreateAsync(2, 0);
        await using var services = new ServiceCollection()
            .AddRideBookingData(o => cluster.Configure(o))
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        await RunRideAsync(services, differentShards: true);
    }

    private static async Task RunRideAsync(IServiceProvider services, bool differentShards = false)
    {
        var users = services.GetRequiredService<IUserRepository>();
        var drivers = services.GetRequiredService<IDriverRepository>();
        var booking = services.GetRequiredService<IRideBookingService>();
        var rides = services.GetRequiredService<IRideRepository>();
        var payments = services.GetRequiredService<IPaymentRepository>();
        var shards = services.GetRequiredService<IShardResolver>();

        var user = await users.CreateAsync("Asha", "+91" + Random.Shared.NextInt64(8_000_000_000, 9_999_999_999));
        var driver = await drivers.CreateAsync("Ravi", "KA-01-AB-1234");
        for (var i = 0; differentShards && shards.PhysicalShardOf(driver.Id) == shards.PhysicalShardOf(user.Id); i++)
        {
            Assert.True(i < 16, "No driver landed on another shard than the user.");
            driver = await drivers.CreateAsync("Ravi " + i, "KA-01-AB-1234");
        }

        var ride = await booking.BookAsync(user.Id, driver.Id, 249.50m);
        Assert.Equal(ride.Id, (await rides.GetCurrentForUserAsync(user.Id))!.Id);
        Assert.Equal(ride.Id, (await rides.GetCurrentForDriverAsync(driver.Id))!.Id);
        var busy = await Assert.ThrowsAsync<DriverUnavailableException>(() => booking.BookAsync(user.Id + 1, driver.Id, 1m));
        Assert.Equal(RideBookingConflict.DriverUnavailable, busy.Conflict);

        await booking.AcceptAsync(ride.Id, driver.Id);
        var completed = await booking.CompleteAsync(ride.Id);
        Assert.Equal(RideStatus.Completed, completed.Status);
        Assert.Null(await rides.GetCurrentForDriverAsync(driver.Id));

        var paid = await payments.RecordAsync(ride.Id, $"psp-{ride.Id}", 249.50m);
        Assert.False(paid.AlreadyRecorded);
        Assert.True((await payments.RecordAsync(ride.Id, $"psp-{ride.Id}", 249.50m)).AlreadyRecorded);
        Assert.Equal(paid.Payment.Id, (await payments.GetForRideAsync(ride.Id))!.Id);
        var page = await rides.GetPageForUserAsync(user.Id, 10);
        Assert.Equal([ride.Id], page.Items.Select(r => r.Id));
        Assert.Contains(await rides.GetDriverEarningsAsync(), e => e.DriverId == driver.Id && e.TotalEarnings == 249.50m);
    }
}
