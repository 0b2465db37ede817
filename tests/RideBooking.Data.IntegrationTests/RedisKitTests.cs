using RideBooking.Data.Testing;
using RideBooking.Data.Testing.Internal;

namespace RideBooking.Data.IntegrationTests;

/// <summary>The test kit's throwaway Redis: started on loopback, stopped and started again, gone after dispose.</summary>
public sealed class RedisKitTests
{
    [Fact]
    public async Task A_throwaway_redis_answers_stops_starts_again_and_is_deleted_on_dispose()
    {
        var redis = await RideBookingTestRedis.CreateAsync();
        Assert.True(redis.CanStop, "This test checks the kit's own redis-server: unset RIDEBOOKING_REDIS and install redis-server (or run .ci/ensure-redis).");
        Assert.StartsWith("127.0.0.1:", redis.ConnectionString, StringComparison.Ordinal);
        var port = int.Parse(redis.ConnectionString.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
        var folder = redis.StartedServer!.Folder;
        Assert.True(Directory.Exists(folder));
        Assert.True(await LocalRedis.PingAsync(port, CancellationToken.None));

        await redis.StopAsync();
        Assert.False(await LocalRedis.PingAsync(port, CancellationToken.None));
        await redis.StartAsync();
        Assert.True(await LocalRedis.PingAsync(port, CancellationToken.None));

        await redis.DisposeAsync();
        Assert.False(await LocalRedis.PingAsync(port, CancellationToken.None));
        Assert.False(Directory.Exists(folder));
    }
}
