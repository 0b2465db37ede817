using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Tests;

public sealed class CacheRegistrationTests
{
    private const string ConnectionString = "Server=127.0.0.1;Port=3306;User ID=app;Password=secret-pw;Database=rides";

    // Nothing listens on this port: building the cache connects to nothing until a look-up.
    private const string Redis = "127.0.0.1:1,password=redis-secret";

    private static ServiceProvider Build(Action<IServiceCollection> register) =>
        Register(register).BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

    private static ServiceCollection Register(Action<IServiceCollection> register)
    {
        var services = new ServiceCollection();
        register(services);
        return services;
    }

    [Fact]
    public void Without_the_cache_the_repositories_are_the_core_ones_and_invalidation_is_a_no_op()
    {
        using var provider = Build(s => s.AddRideBookingData(o => o.ConnectionString = ConnectionString));
        // The instrumentation layer wraps the core repositories directly.
        Assert.IsType<InstrumentedUserRepository>(provider.GetRequiredService<IUserRepository>());
        Assert.IsType<UserRepository>(provider.GetRequiredService<InnerLayer<IUserRepository>>().Service);
        Assert.IsType<DriverRepository>(provider.GetRequiredService<InnerLayer<IDriverRepository>>().Service);
        Assert.Same(NoCacheInvalidation.Instance, provider.GetRequiredService<ICacheInvalidation>());
        Assert.Null(provider.GetService<RideBookingCache>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void With_the_cache_the_look_ups_are_decorated_whichever_call_comes_first_and_a_second_call_adds_nothing(bool cacheFirst)
    {
        var services = Register(s =>
        {
            if (cacheFirst)
            {
                s.AddRideBookingCache(Redis).AddRideBookingCache(Redis);
            }

            s.AddRideBookingData(o => o.ConnectionString = ConnectionString);
            if (!cacheFirst)
            {
                s.AddRideBookingCache(Redis).AddRideBookingCache(Redis);
            }
        });
        Assert.Single(services, d => d.ServiceType == typeof(ICacheInvalidation));
        Assert.Single(services, d => d.ServiceType == typeof(RideBookingCache));
        Assert.Single(services, d => d.ServiceType == typeof(IUserRepository));
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        // The cache layer sits inside the instrumentation.
        Assert.IsType<InstrumentedUserRepository>(provider.GetRequiredService<IUserRepository>());
        Assert.IsType<CachedUserRepository>(provider.GetRequiredService<InnerLayer<IUserRepository>>().Service);
        Assert.IsType<CachedDriverRepository>(provider.GetRequiredService<InnerLayer<IDriverRepository>>().Service);
        Assert.IsType<HybridCacheInvalidation>(provider.GetRequiredService<ICacheInvalidation>());
        // The booking service and the cross-shard steps get the same invalidation as everything else.
        Assert.Same(provider.GetRequiredService<ICacheInvalidation>(), provider.GetRequiredService<ICacheInvalidation>());
    }

    [Fact]
    public void Defaults_are_documented_values()
    {
        var options = new RideBookingCacheOptions();
        Assert.Null(options.RedisConfiguration);
        Assert.Equal("ridebooking:", options.KeyPrefix);
        Assert.Equal(TimeSpan.FromSeconds(5), options.LocalExpiration);
        Assert.Equal(TimeSpan.FromMinutes(5), options.Expiration);
        Assert.Equal(100, options.AvailableDriversCached);
        Assert.Equal(TimeSpan.FromSeconds(1), options.RedisConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.RedisOperationTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.RedisRetryInterval);
    }

    [Fact]
    public void The_redis_client_fails_fast_while_redis_is_down()
    {
        var redis = RideBookingCache.RedisOptions(new RideBookingCacheOptions { RedisConfiguration = "localhost:6379,connectTimeout=15000,syncTimeout=5000" });
        Assert.False(redis.AbortOnConnectFail);
        Assert.Equal(1000, redis.ConnectTimeout);
        Assert.Equal(500, redis.SyncTimeout);
        Assert.Equal(500, redis.AsyncTimeout);
        Assert.Same(StackExchange.Redis.BacklogPolicy.FailFast, redis.BacklogPolicy);
    }

    [Fact]
    public void Invalid_options_fail_once_with_every_problem_listed_and_no_secret()
    {
        using var provider = Build(s => s.AddRideBookingCache(o =>
        {
            o.RedisConfiguration = "localhost:6379,password=redis-secret,nonsense-option=1";
            o.LocalExpiration = TimeSpan.FromMinutes(10);
            o.Expiration = TimeSpan.FromMinutes(1);
            o.AvailableDriversCached = 0;
            o.RedisOperationTimeout = TimeSpan.Zero;
        }));
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RideBookingCacheOptions>>().Value);
        Assert.Contains(ex.Failures, f => f.Contains("RedisConfiguration", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("LocalExpiration", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("AvailableDriversCached", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("RedisOperationTimeout", StringComparison.Ordinal));
        Assert.DoesNotContain("redis-secret", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_redis_configuration_is_reported()
    {
        using var provider = Build(s => s.AddRideBookingCache(_ => { }));
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RideBookingCacheOptions>>().Value);
        Assert.Contains(ex.Failures, f => f.Contains("RedisConfiguration is required", StringComparison.Ordinal));
    }

    [Fact]
    public void Null_arguments_are_refused()
    {
        var services = new ServiceCollection();
        Assert.Throws<ArgumentNullException>(() => services.AddRideBookingCache((Action<RideBookingCacheOptions>)null!));
        Assert.Throws<ArgumentNullException>(() => services.AddRideBookingCache((string)null!));
        Assert.Throws<ArgumentNullException>(() => ((IServiceCollection)null!).AddRideBookingCache(Redis));
    }
}
