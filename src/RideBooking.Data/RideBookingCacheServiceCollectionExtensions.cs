using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RideBooking.Data.Internal;

namespace RideBooking.Data;

/// <summary>Registers the opt-in cache of RideBooking.Data.</summary>
public static class RideBookingCacheServiceCollectionExtensions
{
    /// <summary>
    /// Caches <see cref="IUserRepository.GetAsync"/>, <see cref="IDriverRepository.GetAsync"/> and
    /// <see cref="IDriverRepository.GetAvailableAsync"/> in memory and in Redis (HybridCache, with its stampede
    /// protection), invalidated after every commit of the library that changes a cached value. The booking decision
    /// never reads the cache. When Redis fails, reads go to the database and callers see no error. Works with
    /// <see cref="RideBookingServiceCollectionExtensions.AddRideBookingData(IServiceCollection, Action{RideBookingOptions})"/>
    /// called before or after it; the options are validated when the host starts. Calling it again adds no second registration.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; <see cref="RideBookingCacheOptions.RedisConfiguration"/> is required.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddRideBookingCache(this IServiceCollection services, Action<RideBookingCacheOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<RideBookingCacheOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RideBookingCacheOptions>, RideBookingCacheOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RideBookingMetrics>();
        services.TryAddSingleton<RideBookingCache>();
        // Replaces the no-op that AddRideBookingData registers (or keeps it from being registered, when that comes later).
        services.RemoveAll<ICacheInvalidation>();
        services.AddSingleton<ICacheInvalidation, HybridCacheInvalidation>();
        return services;
    }

    /// <summary>
    /// Registers the cache as <see cref="AddRideBookingCache(IServiceCollection, Action{RideBookingCacheOptions})"/> does,
    /// with every option at its default.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="redisConfiguration">The StackExchange.Redis configuration string, for example <c>"localhost:6379"</c>.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddRideBookingCache(this IServiceCollection services, string redisConfiguration)
    {
        ArgumentNullException.ThrowIfNull(redisConfiguration);
        return services.AddRideBookingCache(options => options.RedisConfiguration = redisConfiguration);
    }
}
