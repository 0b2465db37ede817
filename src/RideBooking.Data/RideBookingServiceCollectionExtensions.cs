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
        // The opt-in cache layer (present once AddRideBookingCache registered the cache) sits inside the instrumentation.
        services.TryAddSingleton(static sp => new InnerLayer<IUserRepository>(RepositoryLayers.Users(sp)));
        services.TryAddSingleton(static sp => new InnerLayer<IDriverRepository>(RepositoryLayers.Drivers(sp)));
        services.TryAddSingleton<CrossShardSteps>();
        // Each public service: the core by its concrete type, the layer the instrumentation wraps (the core, or an opt-in
        // layer around it, see InnerLayer), and the instrumentation outermost.
        services.TryAddSingleton<OperationTelemetry>();
        services.AddLayered<IUserRepository, UserRepository>(static (inner, telemetry) => new InstrumentedUserRepository(inner, telemetry));
        services.AddLayered<IDriverRepository, DriverRepository>(static (inner, telemetry) => new InstrumentedDriverRepository(inner, telemetry));
        services.AddLayered<IRideRepository, RideRepository>(static (inner, telemetry) => new InstrumentedRideRepository(inner, telemetry));
        services.AddLayered<IPaymentRepository, PaymentRepository>(static (inner, telemetry) => new InstrumentedPaymentRepository(inner, telemetry));
        services.AddLayered<IRideBookingService, RideBookingService>(static (inner, telemetry) => new InstrumentedRideBookingService(inner, telemetry));
        services.AddLayered<IDriverEarningsBackfill, DriverEarningsBackfill>(static (inner, telemetry) => new InstrumentedDriverEarningsBackfill(inner, telemetry));
        services.AddLayered<IShardMover, ShardMover>(static (inner, telemetry) => new InstrumentedShardMover(inner, telemetry));
        services.AddLayered<IRideBookingRecovery, RideBookingRecovery>(static (inner, telemetry) => new InstrumentedRideBookingRecovery(inner, telemetry));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRecoveryStep, CrossShardRecovery>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRecoveryStep, KeyClaimRecovery>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, RideBookingRecoveryService>());
        return services;
    }

    /// <summary>
    /// Registers a public service as layers: <typeparamref name="TCore"/> by its concrete type, <see cref="InnerLayer{TService}"/>
    /// holding it (unless an opt-in layer registered itself there already), and the instrumentation outermost. A host's own
    /// registration of <typeparamref name="TService"/> made before this call is kept, as with every other service.
    /// </summary>
    private static void AddLayered<TService, TCore>(this IServiceCollection services, Func<TService, OperationTelemetry, TService> instrument)
        where TService : class
        where TCore : class, TService
    {
        services.TryAddSingleton<TCore>();
        services.TryAddSingleton(static sp => new InnerLayer<TService>(sp.GetRequiredService<TCore>()));
        services.TryAddSingleton(sp => instrument(sp.GetRequiredService<InnerLayer<TService>>().Service, sp.GetRequiredService<OperationTelemetry>()));
    }
}
