using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Tests;

/// <summary>How the instrumentation layer is composed at registration, and the health check's registration.</summary>
public sealed class TelemetryRegistrationTests
{
    private const string ConnectionString = "Server=127.0.0.1;Port=3306;User ID=app;Password=secret-pw;Database=rides";

    public static TheoryData<Type, Type, Type> Layers => new()
    {
        { typeof(IUserRepository), typeof(InstrumentedUserRepository), typeof(UserRepository) },
        { typeof(IDriverRepository), typeof(InstrumentedDriverRepository), typeof(DriverRepository) },
        { typeof(IRideRepository), typeof(InstrumentedRideRepository), typeof(RideRepository) },
        { typeof(IPaymentRepository), typeof(InstrumentedPaymentRepository), typeof(PaymentRepository) },
        { typeof(IRideBookingService), typeof(InstrumentedRideBookingService), typeof(RideBookingService) },
        { typeof(IDriverEarningsBackfill), typeof(InstrumentedDriverEarningsBackfill), typeof(DriverEarningsBackfill) },
        { typeof(IRideBookingRecovery), typeof(InstrumentedRideBookingRecovery), typeof(RideBookingRecovery) },
        { typeof(IShardMover), typeof(InstrumentedShardMover), typeof(ShardMover) },
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void Every_public_service_is_the_instrumentation_layer_around_the_core_registered_by_its_concrete_type(Type service, Type instrumented, Type core)
    {
        var services = new ServiceCollection();
        services.AddRideBookingData(o => o.ConnectionString = ConnectionString);
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var outer = provider.GetRequiredService(service);
        Assert.IsType(instrumented, outer);
        var inner = provider.GetRequiredService(typeof(InnerLayer<>).MakeGenericType(service));
        var wrapped = inner.GetType().GetProperty(nameof(InnerLayer<IUserRepository>.Service))!.GetValue(inner);
        Assert.Same(provider.GetRequiredService(core), wrapped);
    }

    [Fact]
    public void An_opt_in_layer_registered_before_or_after_sits_between_the_instrumentation_and_the_core()
    {
        foreach (var before in new[] { true, false })
        {
            var services = new ServiceCollection();
            void AddLayer() => services.Replace(ServiceDescriptor.Singleton(sp => new InnerLayer<IUserRepository>(new CountingUsers(sp.GetRequiredService<UserRepository>()))));
            if (before)
            {
                AddLayer();
            }

            services.AddRideBookingData(o => o.ConnectionString = ConnectionString);
            if (!before)
            {
                AddLayer();
            }

            using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
            Assert.IsType<InstrumentedUserRepository>(provider.GetRequiredService<IUserRepository>());
            var layer = Assert.IsType<CountingUsers>(provider.GetRequiredService<InnerLayer<IUserRepository>>().Service);
            Assert.Same(provider.GetRequiredService<UserRepository>(), layer.Inner);
        }
    }

    [Fact]
    public void A_hosts_own_implementation_registered_first_is_kept()
    {
        var services = new ServiceCollection();
        var own = new CountingUsers(null!);
        services.AddSingleton<IUserRepository>(own);
        services.AddRideBookingData(o => o.ConnectionString = ConnectionString);
        using var provider = services.BuildServiceProvider();

        Assert.Same(own, provider.GetRequiredService<IUserRepository>());
    }

    public static TheoryData<Exception, string> Outcomes => new()
    {
        { new EntityNotFoundException(), "not_found" },
        { new DriverUnavailableException(), "driver_unavailable" },
        { new ActiveRideExistsException(), "active_ride_exists" },
        { new InvalidRideStateException(), "invalid_state" },
        { new PaymentConflictException(), "payment_conflict" },
        { new DuplicatePhoneException(), "duplicate_phone" },
        { new RideBookingException(), "conflict" },
        { new ArgumentOutOfRangeException("limit"), "invalid_argument" },
        { new OperationCanceledException(), "cancelled" },
        { new ShardUnavailableException(), "infrastructure" },
        { new LogicalShardMovingException(), "infrastructure" },
        { new RideBookingInfrastructureException(), "infrastructure" },
        { new InvalidOperationException(), "error" },
    };

    [Theory]
    [MemberData(nameof(Outcomes))]
    public void A_failure_has_an_outcome_that_says_its_kind(Exception exception, string outcome) =>
        Assert.Equal(outcome, OperationTelemetry.OutcomeOf(exception));

    [Fact]
    public void The_health_check_is_registered_under_its_name_with_the_hosts_failure_status_and_tags()
    {
        var services = new ServiceCollection();
        services.AddRideBookingData(o => o.ConnectionString = ConnectionString);
        services.AddHealthChecks().AddRideBookingData(failureStatus: HealthStatus.Degraded, tags: ["ready"]);
        using var provider = services.BuildServiceProvider();

        var registration = Assert.Single(provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations);
        Assert.Equal("ridebooking-data", registration.Name);
        Assert.Equal(HealthStatus.Degraded, registration.FailureStatus);
        Assert.Equal(["ready"], registration.Tags);
        Assert.IsType<RideBookingHealthCheck>(registration.Factory(provider));
    }

    [Fact]
    public void The_health_check_refuses_a_timeout_that_is_not_positive()
    {
        var builder = new ServiceCollection().AddHealthChecks();
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.AddRideBookingData(timeout: TimeSpan.Zero));
        Assert.Throws<ArgumentNullException>(() => RideBookingHealthChecksBuilderExtensions.AddRideBookingData(null!));
    }

    /// <summary>A stand-in for an opt-in layer such as a cache.</summary>
    private sealed class CountingUsers(IUserRepository inner) : IUserRepository
    {
        public IUserRepository Inner { get; } = inner;

        public Task<User> CreateAsync(string name, string phone, CancellationToken ct = default) => Inner.CreateAsync(name, phone, ct);

        public Task<User> CreateAsync(string name, string phone, string idempotencyKey, CancellationToken ct = default) => Inner.CreateAsync(name, phone, idempotencyKey, ct);

        public Task<User?> GetAsync(long userId, CancellationToken ct = default) => Inner.GetAsync(userId, ct);

        public Task<User?> GetByPhoneAsync(string phone, CancellationToken cancellationToken = default) => Inner.GetByPhoneAsync(phone, cancellationToken);
    }
}
