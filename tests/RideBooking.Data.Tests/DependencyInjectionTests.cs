using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace RideBooking.Data.Tests;

public sealed class DependencyInjectionTests
{
    private const string ConnectionString = "Server=127.0.0.1;Port=3306;User ID=app;Password=secret-pw;Database=rides";

    public static TheoryData<Type> PublicServices => new()
    {
        typeof(IUserRepository), typeof(IDriverRepository), typeof(IRideRepository), typeof(IPaymentRepository), typeof(IRideBookingService), typeof(IDriverEarningsBackfill), typeof(IRideBookingRecovery),
    };

    [Theory]
    [MemberData(nameof(PublicServices))]
    public void Every_public_service_is_registered_once_as_a_singleton_even_when_added_twice(Type service)
    {
        var services = new ServiceCollection();
        services.AddRideBookingData(o => o.ConnectionString = ConnectionString);
        services.AddRideBookingData(o => o.ConnectionString = ConnectionString);

        var descriptor = Assert.Single(services, d => d.ServiceType == service);
        Assert.Equal(ServiceLifetime.Singleton, descriptor.Lifetime);
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        Assert.Same(provider.GetRequiredService(service), provider.GetRequiredService(service));
    }

    [Fact]
    public void The_configuration_overload_binds_every_option()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RideBooking:ConnectionString"] = ConnectionString,
            ["RideBooking:MaxTransactionRetries"] = "5",
            ["RideBooking:RetryBaseDelay"] = "00:00:00.050",
            ["RideBooking:WorkerId"] = "17",
        }).Build();
        var services = new ServiceCollection();
        services.AddRideBookingData(configuration.GetSection("RideBooking"));
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<RideBookingOptions>>().Value;
        Assert.Equal(ConnectionString, options.ConnectionString);
        Assert.Equal(5, options.MaxTransactionRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(50), options.RetryBaseDelay);
        Assert.Equal(17, options.WorkerId);
        Assert.Equal(17, provider.GetRequiredService<Internal.IdGenerator>().WorkerId);
    }

    [Fact]
    public void Defaults_are_documented_values()
    {
        var options = new RideBookingOptions();
        Assert.Null(options.ConnectionString);
        Assert.Equal(3, options.MaxTransactionRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(20), options.RetryBaseDelay);
        Assert.Null(options.WorkerId);
    }

    [Fact]
    public void Invalid_options_fail_once_with_every_problem_listed()
    {
        var services = new ServiceCollection();
        services.AddRideBookingData(o =>
        {
            o.ConnectionString = " ";
            o.MaxTransactionRetries = -1;
            o.RetryBaseDelay = TimeSpan.FromMinutes(1);
            o.WorkerId = 5000;
        });
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RideBookingOptions>>().Value);
        Assert.Equal(4, ex.Failures.Count());
        Assert.Contains(ex.Failures, f => f.Contains("ConnectionString", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("MaxTransactionRetries", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("RetryBaseDelay", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("WorkerId", StringComparison.Ordinal));
    }

    [Fact]
    public void A_malformed_connection_string_is_reported_without_echoing_it()
    {
        var services = new ServiceCollection();
        services.AddRideBookingData(o => o.ConnectionString = "Password=hunter2-secret;NoSuchKeyword=1");
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RideBookingOptions>>().Value);
        Assert.Contains("not a valid MySQL connection string", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-secret", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_runs_at_start_up()
    {
        var services = new ServiceCollection();
        services.AddRideBookingData(o => o.ConnectionString = null);
        using var provider = services.BuildServiceProvider();
        var validator = provider.GetService<Microsoft.Extensions.Options.IStartupValidator>();
        Assert.NotNull(validator);
        Assert.Throws<OptionsValidationException>(validator!.Validate);
    }

    [Fact]
    public void Null_arguments_are_refused()
    {
        Assert.Throws<ArgumentNullException>(() => RideBookingServiceCollectionExtensions.AddRideBookingData(null!, o => { }));
        Assert.Throws<ArgumentNullException>(() => new ServiceCollection().AddRideBookingData((Action<RideBookingOptions>)null!));
        Assert.Throws<ArgumentNullException>(() => new ServiceCollection().AddRideBookingData((IConfiguration)null!));
    }
}
