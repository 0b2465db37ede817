using Dapper;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;
using RideBooking.Data.Internal;
using RideBooking.Data.Testing;
using StackExchange.Redis;

namespace RideBooking.Data.IntegrationTests;

/// <summary>The opt-in cache against a real Redis and a real database: what it serves, what invalidates it, and what it never decides.</summary>
public sealed class CacheTests(CacheFixture fixture) : IClassFixture<CacheFixture>
{
    private const string Hits = "ridebooking.cache.hits";
    private const string Misses = "ridebooking.cache.misses";
    private const string Fallbacks = "ridebooking.cache.fallbacks";

    private static int _phones;

    private CachedServices NewInstance(string? keyPrefix = null, Action<RideBookingCacheOptions>? configure = null) =>
        new(fixture.Database.ConnectionString, fixture.Redis.ConnectionString, keyPrefix ?? CachedServices.NewKeyPrefix(), configure);

    private static Task<User> NewUserAsync(CachedServices app) =>
        app.Users.CreateAsync("Rider", $"+1666{Interlocked.Increment(ref _phones):D7}");

    private static Task<Driver> NewDriverAsync(CachedServices app) => app.Drivers.CreateAsync("Driver", "KA-" + Random.Shared.Next(1000, 9999));

    /// <summary>Changes a row behind the library's back (as another application would), so that a cached value shows as such.</summary>
    private async Task ExecuteAsync(string sql, object parameters)
    {
        await using var connection = new MySqlConnection(fixture.Database.ConnectionString);
        await connection.ExecuteAsync(sql, parameters);
    }

    [Fact]
    public async Task Look_ups_are_served_from_the_cache_and_counted_until_a_write_of_the_library_invalidates_them()
    {
        await using var app = NewInstance();
        var user = await NewUserAsync(app);
        var driver = await NewDriverAsync(app);

        Assert.Equal(user, await app.Users.GetAsync(user.Id));
        Assert.Equal(user, await app.Users.GetAsync(user.Id));
        Assert.Equal(driver, await app.Drivers.GetAsync(driver.Id));
        Assert.Equal(1, app.Count(Misses, "kind=user"));
        Assert.Equal(1, app.Count(Hits, "kind=user"));
        Assert.Equal(1, app.Count(Misses, "kind=driver"));

        // Renamed behind the library's back: the cache still serves what it read.
        await ExecuteAsync("UPDATE drivers SET name = 'Renamed' WHERE id = @Id", new { driver.Id });
        Assert.Equal("Driver", (await app.Drivers.GetAsync(driver.Id))!.Name);
        Assert.Contains(driver.Id, (await app.Drivers.GetAvailableAsync(100)).Select(d => d.Id));

        // Booking changes the driver's availability: the look-up and the list are read again after it.
        var ride = await app.Booking.BookAsync(user.Id, driver.Id, 12.5m);
        var booked = await app.Drivers.GetAsync(driver.Id);
        Assert.False(booked!.Available);
        Assert.Equal("Renamed", booked.Name);
        Assert.DoesNotContain(driver.Id, (await app.Drivers.GetAvailableAsync(100)).Select(d => d.Id));

        // Accepting does not change the driver; completing frees it again.
        await app.Booking.AcceptAsync(ride.Id, driver.Id);
        Assert.False((await app.Drivers.GetAsync(driver.Id))!.Available);
        await app.Booking.CompleteAsync(ride.Id);
        Assert.True((await app.Drivers.GetAsync(driver.Id))!.Available);
        Assert.Contains(driver.Id, (await app.Drivers.GetAvailableAsync(100)).Select(d => d.Id));

        // Cancelling frees the driver as well.
        var second = await app.Booking.BookAsync(user.Id, driver.Id, 8m);
        Assert.False((await app.Drivers.GetAsync(driver.Id))!.Available);
        await app.Booking.CancelAsync(second.Id);
        Assert.True((await app.Drivers.GetAsync(driver.Id))!.Available);
        Assert.Contains(driver.Id, (await app.Drivers.GetAvailableAsync(100)).Select(d => d.Id));

        // Tags carry the entity kind only.
        Assert.All(app.Tags(Hits).Concat(app.Tags(Misses)), tag => Assert.StartsWith("kind=", tag, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_available_list_is_one_entry_for_every_limit_and_a_new_driver_invalidates_it()
    {
        await using var app = NewInstance(configure: o => o.AvailableDriversCached = 50);
        var before = await app.Drivers.GetAvailableAsync(50);
        var smaller = await app.Drivers.GetAvailableAsync(3);
        Assert.Equal(before.Take(3), smaller);
        Assert.Equal(1, app.Count(Misses, "kind=available_drivers"));
        Assert.Equal(1, app.Count(Hits, "kind=available_drivers"));

        var created = await NewDriverAsync(app);
        var after = await app.Drivers.GetAvailableAsync(50);
        Assert.Equal(2, app.Count(Misses, "kind=available_drivers"));
        Assert.Equal(
            (await new MySqlConnection(fixture.Database.ConnectionString).QueryAsync<long>("SELECT id FROM drivers WHERE available ORDER BY id LIMIT 50")).ToList(),
            after.Select(d => d.Id).ToList());
        Assert.Contains(created.Id, (await app.Drivers.GetAvailableAsync(1000)).Select(d => d.Id));

        // A limit above the cached list's size reads the database, not counted as a cached look-up.
        Assert.Equal(2, app.Count(Misses, "kind=available_drivers"));
    }

    [Fact]
    public async Task Unknown_ids_are_not_cached()
    {
        await using var app = NewInstance();
        var driver = await NewDriverAsync(app);
        var unknown = driver.Id + 1_000_000;
        Assert.Null(await app.Drivers.GetAsync(unknown));
        await ExecuteAsync("INSERT INTO drivers (id, name, vehicle_number, available, created_at) VALUES (@Id, 'Late', 'KA-1', TRUE, UTC_TIMESTAMP(6))", new { Id = unknown });
        Assert.Equal("Late", (await app.Drivers.GetAsync(unknown))!.Name);
    }

    [Fact]
    public async Task A_stale_cached_available_driver_never_lets_a_booking_through()
    {
        await using var app = NewInstance();
        var driver = await NewDriverAsync(app);
        var user = await NewUserAsync(app);
        Assert.True((await app.Drivers.GetAsync(driver.Id))!.Available);
        Assert.Contains(driver.Id, (await app.Drivers.GetAvailableAsync(100)).Select(d => d.Id));

        // Taken behind the cache's back (another instance whose invalidation has not arrived): the cache still says available.
        await ExecuteAsync("UPDATE drivers SET available = FALSE WHERE id = @Id", new { driver.Id });
        Assert.True((await app.Drivers.GetAsync(driver.Id))!.Available);
        Assert.Contains(driver.Id, (await app.Drivers.GetAvailableAsync(100)).Select(d => d.Id));

        await Assert.ThrowsAsync<DriverUnavailableException>(() => app.Booking.BookAsync(user.Id, driver.Id, 10m));
        await using var connection = new MySqlConnection(fixture.Database.ConnectionString);
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides WHERE driver_id = @Id", new { driver.Id }));
    }

    [Fact]
    public async Task A_stale_cached_busy_driver_never_blocks_a_booking()
    {
        await using var app = NewInstance();
        var driver = await NewDriverAsync(app);
        var user = await NewUserAsync(app);
        await ExecuteAsync("UPDATE drivers SET available = FALSE WHERE id = @Id", new { driver.Id });
        Assert.False((await app.Drivers.GetAsync(driver.Id))!.Available);
        Assert.DoesNotContain(driver.Id, (await app.Drivers.GetAvailableAsync(100)).Select(d => d.Id));

        // Freed behind the cache's back: the cache still says busy, the booking goes through.
        await ExecuteAsync("UPDATE drivers SET available = TRUE WHERE id = @Id", new { driver.Id });
        Assert.False((await app.Drivers.GetAsync(driver.Id))!.Available);

        var ride = await app.Booking.BookAsync(user.Id, driver.Id, 10m);
        Assert.Equal(driver.Id, ride.DriverId);
        Assert.False((await app.Drivers.GetAsync(driver.Id))!.Available);
    }

    [Fact]
    public async Task Another_instance_sharing_the_redis_serves_the_new_value_once_its_local_expiration_has_passed()
    {
        var bound = TimeSpan.FromSeconds(1);
        var prefix = CachedServices.NewKeyPrefix();
        await using var a = NewInstance(prefix, o => o.LocalExpiration = bound);
        await using var b = NewInstance(prefix, o => o.LocalExpiration = bound);
        var driver = await NewDriverAsync(a);
        var user = await NewUserAsync(a);

        // Both instances hold the driver and the list; B's second read is from its own memory or the shared Redis.
        Assert.True((await a.Drivers.GetAsync(driver.Id))!.Available);
        Assert.True((await b.Drivers.GetAsync(driver.Id))!.Available);
        Assert.Contains(driver.Id, (await b.Drivers.GetAvailableAsync(100)).Select(d => d.Id));
        Assert.Contains(driver.Id, (await a.Drivers.GetAvailableAsync(100)).Select(d => d.Id));
        Assert.True(b.Count(Hits, "kind=driver") + a.Count(Hits, "kind=driver") >= 1);

        // A books: its own memory and Redis lose the entries at once; B may serve its copy until the bound.
        await a.Booking.BookAsync(user.Id, driver.Id, 9m);
        Assert.False((await a.Drivers.GetAsync(driver.Id))!.Available);
        await Task.Delay(bound + TimeSpan.FromMilliseconds(100));

        Assert.False((await b.Drivers.GetAsync(driver.Id))!.Available);
        Assert.DoesNotContain(driver.Id, (await b.Drivers.GetAvailableAsync(100)).Select(d => d.Id));
        Assert.DoesNotContain(driver.Id, (await b.Drivers.GetAvailableAsync(7)).Select(d => d.Id));
    }

    [Fact]
    public async Task A_value_in_redis_is_served_to_another_instance_without_a_database_read()
    {
        var prefix = CachedServices.NewKeyPrefix();
        await using var a = NewInstance(prefix);
        await using var b = NewInstance(prefix);
        var user = await NewUserAsync(a);
        Assert.Equal(user, await a.Users.GetAsync(user.Id));

        // HybridCache writes Redis in the background after it answered A: wait for the entry to be there.
        await WaitForRedisKeyAsync(prefix + CacheKeys.User(user.Id));

        // Renamed behind the library's back: B gets A's copy from Redis, which proves it did not read the database.
        await ExecuteAsync("UPDATE users SET name = 'Renamed' WHERE id = @Id", new { user.Id });
        Assert.Equal(user, await b.Users.GetAsync(user.Id));
        Assert.Equal(1, b.Count(Hits, "kind=user"));
        Assert.Equal(0, b.Count(Misses, "kind=user"));
    }

    [Fact]
    public async Task A_read_right_after_a_write_of_the_same_instance_never_serves_the_value_from_before_it()
    {
        // HybridCache writes a loaded value to Redis after it has answered: each round reads (loading the value), writes,
        // and reads at once, so the background write of the first read races the removal of the write.
        await using var app = NewInstance();
        var user = await NewUserAsync(app);
        var driver = await NewDriverAsync(app);
        for (var round = 0; round < 200; round++)
        {
            Assert.True((await app.Drivers.GetAsync(driver.Id))!.Available);
            var ride = await app.Booking.BookAsync(user.Id, driver.Id, 5m);
            Assert.False((await app.Drivers.GetAsync(driver.Id))!.Available);
            await app.Booking.CancelAsync(ride.Id);
        }

        Assert.True((await app.Drivers.GetAsync(driver.Id))!.Available);
    }

    [Fact]
    public async Task A_redis_write_of_a_value_loaded_before_a_removal_never_outlives_the_removal()
    {
        var prefix = CachedServices.NewKeyPrefix();
        using var redis = new RedisCache(Options.Create(new RedisCacheOptions { Configuration = fixture.Redis.ConnectionString, InstanceName = prefix }));
        var gated = new GatedSets(redis);
        using var metrics = new RideBookingMetrics();
        var fence = new RemovalFence();
        using var cache = new ResilientDistributedCache(gated, TimeSpan.FromSeconds(5), TimeProvider.System, metrics, NullLogger.Instance, fence);
        var entry = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1) };
        byte[] value = [1, 2, 3];

        // Loaded and written with no removal in between: the value is in Redis (the fence does not get in the way).
        fence.Loaded("driver:1", fence.Current("driver:1"));
        await cache.SetAsync("driver:1", value, entry);
        Assert.Equal(value, await redis.GetAsync("driver:1"));

        // Loaded, then removed before the write started: the write is skipped.
        fence.Loaded("driver:2", fence.Current("driver:2"));
        fence.Removing("driver:2");
        await cache.RemoveAsync("driver:2");
        await cache.SetAsync("driver:2", value, entry);
        Assert.Null(await redis.GetAsync("driver:2"));

        // Loaded, the write in flight, the removal reaches Redis first, then the write lands: it is removed again.
        fence.Loaded("driver:3", fence.Current("driver:3"));
        gated.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var write = cache.SetAsync("driver:3", value, entry);
        await gated.Entered.Task;
        fence.Removing("driver:3");
        await cache.RemoveAsync("driver:3");
        gated.Hold.SetResult();
        await write;
        Assert.True(gated.Landed);
        Assert.Null(await redis.GetAsync("driver:3"));
    }

    /// <summary>Holds a Redis write until released, so that a removal can reach Redis before it.</summary>
    private sealed class GatedSets(IDistributedCache inner) : IDistributedCache
    {
        public TaskCompletionSource? Hold { get; set; }

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Landed { get; private set; }

        public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
        {
            if (Hold is { } hold)
            {
                Entered.TrySetResult();
                await hold.Task;
                await inner.SetAsync(key, value, options, token);
                Landed = await inner.GetAsync(key, token) is not null;
                return;
            }

            await inner.SetAsync(key, value, options, token);
        }

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => inner.GetAsync(key, token);

        public Task RemoveAsync(string key, CancellationToken token = default) => inner.RemoveAsync(key, token);

        public Task RefreshAsync(string key, CancellationToken token = default) => inner.RefreshAsync(key, token);

        public byte[]? Get(string key) => inner.Get(key);

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => inner.Set(key, value, options);

        public void Remove(string key) => inner.Remove(key);

        public void Refresh(string key) => inner.Refresh(key);
    }

    /// <summary>Waits until Redis holds <paramref name="key"/> (with its instance prefix), within 10 seconds.</summary>
    private async Task WaitForRedisKeyAsync(string key)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await redis.GetDatabase().KeyExistsAsync(key))
        {
            Assert.True(DateTime.UtcNow < deadline, $"Redis never received {key}.");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task When_redis_stops_every_operation_falls_back_to_the_database_without_an_error_and_is_counted()
    {
        await using var redis = await RideBookingTestRedis.CreateAsync();
        Assert.True(redis.CanStop, "This test stops its Redis server: unset RIDEBOOKING_REDIS and install redis-server (or run .ci/ensure-redis) so the test kit starts one.");
        await using var app = new CachedServices(fixture.Database.ConnectionString, redis.ConnectionString, CachedServices.NewKeyPrefix());
        var user = await NewUserAsync(app);
        var driver = await NewDriverAsync(app);
        Assert.Equal(user, await app.Users.GetAsync(user.Id));
        Assert.True((await app.Drivers.GetAsync(driver.Id))!.Available);
        Assert.Equal(0, app.Count(Fallbacks));

        await redis.StopAsync();

        // Nothing cached yet for these: read from the database, no error.
        var other = await NewUserAsync(app);
        Assert.Equal(other, await app.Users.GetAsync(other.Id));
        Assert.Equal(other, await app.Users.GetAsync(other.Id));
        var list = await app.Drivers.GetAvailableAsync(100);
        Assert.Contains(driver.Id, list.Select(d => d.Id));

        // Writes still invalidate this instance's memory, and their removals wait for Redis.
        await app.Booking.BookAsync(user.Id, driver.Id, 5m);
        Assert.False((await app.Drivers.GetAsync(driver.Id))!.Available);
        Assert.DoesNotContain(driver.Id, (await app.Drivers.GetAvailableAsync(100)).Select(d => d.Id));
        Assert.True(app.Cache.Redis.PendingRemovals > 0);

        Assert.True(app.Count(Fallbacks, "reason=error") >= 1);
        // After the first failure, Redis is left alone: the following operations skip it instead of waiting for a timeout.
        Assert.True(app.Count(Fallbacks, "reason=skipped") >= 1);
        Assert.All(app.Tags(Fallbacks), tag => Assert.Matches("^(kind=(user|driver|available_drivers)|reason=(error|skipped))$", tag));

        // Redis back: after the retry interval the postponed removals go out first, then the cache uses Redis again.
        await redis.StartAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (app.Cache.Redis.PendingRemovals > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            _ = await app.Users.GetAsync((await NewUserAsync(app)).Id);
        }

        Assert.Equal(0, app.Cache.Redis.PendingRemovals);
    }
}
