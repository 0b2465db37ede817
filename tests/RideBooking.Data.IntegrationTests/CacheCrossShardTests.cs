using Microsoft.Extensions.DependencyInjection;
using RideBooking.Data.Internal;
using RideBooking.Data.Testing;

namespace RideBooking.Data.IntegrationTests;

/// <summary>A Redis server per test class.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private RideBookingTestRedis? _redis;

    public RideBookingTestRedis Redis => _redis ?? throw new InvalidOperationException("Not initialized.");

    public async Task InitializeAsync() => _redis = await RideBookingTestRedis.CreateAsync();

    public async Task DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}

/// <summary>The writes the library makes on its own across shards (holds, relayed releases, recovery) invalidate the cached driver too.</summary>
#pragma warning disable CA1001 // xunit disposes the services through IAsyncLifetime.DisposeAsync.
public sealed class CacheCrossShardTests(ClusterFixture cluster, RedisFixture redis) : IClassFixture<ClusterFixture>, IClassFixture<RedisFixture>, IAsyncLifetime
#pragma warning restore CA1001
{
    private ShardedServices _db = null!;

    private sealed class SimulatedCrashException() : Exception("simulated crash");

    public Task InitializeAsync()
    {
        _db = new ShardedServices(
            cluster.Cluster,
            o => o.RecoveryGracePeriod = TimeSpan.FromSeconds(1),
            services => services.AddRideBookingCache(o =>
            {
                o.RedisConfiguration = redis.Redis.ConnectionString;
                o.KeyPrefix = CachedServices.NewKeyPrefix();
                // Longer than anything this test waits: a value it sees fresh was invalidated, not expired.
                o.LocalExpiration = TimeSpan.FromMinutes(1);
            }));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private async Task<bool> AvailableAsync(Driver driver) => (await _db.Drivers.GetAsync(driver.Id))!.Available;

    private async Task<bool> ListedAsync(Driver driver) => (await _db.Drivers.GetAvailableAsync(100)).Any(d => d.Id == driver.Id);

    [Fact]
    public async Task Holds_relayed_releases_and_the_recovery_pass_invalidate_the_cached_driver()
    {
        var user = await _db.NewUserOnShardAsync(0);
        var driver = await _db.NewDriverOnShardAsync(1);
        Assert.True(await AvailableAsync(driver));

        // Booked across shards: the hold on the driver's shard invalidates; the cancellation's relay frees it again.
        var ride = await _db.Booking.BookAsync(user.Id, driver.Id, 11m);
        Assert.False(await AvailableAsync(driver));
        await _db.Booking.CancelAsync(ride.Id);
        Assert.True(await AvailableAsync(driver));

        // A process dies after holding the driver: the cache says busy (as the database does) until recovery releases it.
        var steps = _db.Services.GetRequiredService<CrossShardSteps>();
        steps.Step = name => name == "BookRide:held" ? throw new SimulatedCrashException() : Task.CompletedTask;
        try
        {
            await Assert.ThrowsAsync<SimulatedCrashException>(() => _db.Booking.BookAsync(user.Id, driver.Id, 7m));
        }
        finally
        {
            steps.Step = null;
        }

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.False(await AvailableAsync(driver));
        Assert.False(await ListedAsync(driver));
        Assert.True(await _db.Services.GetRequiredService<IRideBookingRecovery>().RunAsync() >= 1);
        Assert.True(await AvailableAsync(driver));
        Assert.True(await ListedAsync(driver));
    }
}
