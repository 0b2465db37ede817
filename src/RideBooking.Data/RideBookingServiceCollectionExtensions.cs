using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RideBooking.Data.Internal;

namespace RideBooking.Data;

/// <summary>Registers the RideBooking.Data repositories and booking service.</summary>
public static class RideBookingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IUserRepository"/>, <see cref="IDriverRepository"/>, <see cref="IRideRepository"/>,
    /// <see cref="IPaymentRepository"/>, <see cref="IRideBookingService"/>, <see cref="IDriverEarningsBackfill"/> and
    /// <see cref="IShardMover"/> as singletons, configured in code.
    /// The options are validated when the host starts. Calling it again adds no second registration.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; <see cref="RideBookingOptions.ConnectionString"/> is required.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddRideBookingData(this IServiceCollection services, Action<RideBookingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<RideBookingOptions>().Configure(configure).ValidateOnStart();
        return services.AddRideBookingDataCore();
    }

    /// <summary>
    /// Registers the same services as <see cref="AddRideBookingData(IServiceCollection, Action{RideBookingOptions})"/>,
    /// with options bound from a configuration section (usually <c>configuration.GetSection("RideBooking")</c>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section holding <c>ConnectionString</c>, <c>MaxTransactionRetries</c>, <c>RetryBaseDelay</c> and <c>WorkerId</c>.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddRideBookingData(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<RideBookingOptions>().Bind(configuration).ValidateOnStart();
        return services.AddRideBookingDataCore();
    }

    private static IServiceCollection AddRideBookingDataCore(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RideBookingOptions>, RideBookingOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RideBookingMetrics>();
        services.TryAddSingleton<RideBookingDataSource>();
        services.TryAddSingleton<ShardPlacements>();
        services.TryAddSingleton<IShardMap, ModuloShardMap>();
        services.TryAddSingleton<ShardResolver>();
        services.TryAddSingleton<IShardResolver>(sp => sp.GetRequiredService<ShardResolver>());
        services.TryAddSingleton<ReplicaMonitor>();
        services.TryAddSingleton<ShardReader>();
        services.TryAddSingleton<ReadYourWrites>();
        services.TryAddSingleton<IReadYourWrites>(sp => sp.GetRequiredService<ReadYourWrites>());
        services.TryAddSingleton<TransactionRunner>();
        services.TryAddSingleton(sp => new IdGenerator(
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<RideBookingOptions>>().Value.WorkerId ?? Random.Shared.Next(IdGenerator.MaxWorkerId + 1)));
        services.TryAddSingleton<KeyClaims>();
        services.TryAddSingleton<ICacheInvalidation>(NoCacheInvalidation.Instance);
        services.TryAddSingleton<UserRepository>();
        services.TryAddSingleton<DriverRepository>();
        services.TryAddSingleton<IUserRepository>(RepositoryLayers.Users);
        services.TryAddSingleton<IDriverRepository>(RepositoryLayers.Drivers);
        services.TryAddSingleton<IRideRepository, RideRepository>();
        services.TryAddSingleton<IPaymentRepository, PaymentRepository>();
        services.TryAddSingleton<CrossShardSteps>();
        services.TryAddSingleton<IRideBookingService, RideBookingService>();
        services.TryAddSingleton<IDriverEarningsBackfill, DriverEarningsBackfill>();
        services.TryAddSingleton<IShardMover, ShardMover>();
        services.TryAddSingleton<IRideBookingRecovery, RideBookingRecovery>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRecoveryStep, CrossShardRecovery>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRecoveryStep, KeyClaimRecovery>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, RideBookingRecoveryService>());
        return services;
    }
}
