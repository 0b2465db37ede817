using Microsoft.Extensions.DependencyInjection;

namespace RideBooking.Data.Internal;

/// <summary>
/// Composes the layers around the core repositories at registration, innermost first: the core, then the cache when
/// <see cref="RideBookingCacheServiceCollectionExtensions.AddRideBookingCache(IServiceCollection, Action{RideBookingCacheOptions})"/>
/// registered it. Outer layers (instrumentation) wrap what these return.
/// </summary>
internal static class RepositoryLayers
{
    public static IUserRepository Users(IServiceProvider services)
    {
        IUserRepository repository = services.GetRequiredService<UserRepository>();
        return services.GetService<RideBookingCache>() is { } cache ? new CachedUserRepository(repository, cache) : repository;
    }

    public static IDriverRepository Drivers(IServiceProvider services)
    {
        IDriverRepository repository = services.GetRequiredService<DriverRepository>();
        return services.GetService<RideBookingCache>() is { } cache ? new CachedDriverRepository(repository, cache) : repository;
    }
}
