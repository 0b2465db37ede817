using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Tests;

public sealed class ShardOptionsValidationTests
{
    private const string Password = "hunter2-do-not-echo";

    private static string[] Failures(RideBookingOptions options)
    {
        var result = new RideBookingOptionsValidator().Validate(null, options);
        return result.Failed ? [.. result.Failures!] : [];
    }

    private static RideBookingOptions WithShards(params ShardOptions[] shards)
    {
        var options = new RideBookingOptions();
        foreach (var shard in shards)
        {
            options.Shards.Add(shard);
        }

        return options;
    }

    private static ShardOptions Shard(string? primary, params string[] replicas)
    {
        var shard = new ShardOptions { Primary = primary };
        foreach (var replica in replicas)
        {
            shard.Replicas.Add(replica);
        }

        return shard;
    }

    [Fact]
    public void Shards_bind_from_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RideBooking:Shards:0:Primary"] = ShardTopology.Primary(0),
            ["RideBooking:Shards:0:Replicas:0"] = ShardTopology.Replica(0, 0),
            ["RideBooking:Shards:0:Replicas:1"] = ShardTopology.Replica(0, 1),
            ["RideBooking:Shards:1:Primary"] = ShardTopology.Primary(1),
            ["RideBooking:Shards:2:Primary"] = ShardTopology.Primary(2),
            ["RideBooking:Shards:2:Replicas:0"] = ShardTopology.Replica(2, 0),
            ["RideBooking:MaxReplicaLag"] = "00:00:02",
            ["RideBooking:ReplicaWaitTimeout"] = "00:00:00.250",
            ["RideBooking:ReplicaCheckInterval"] = "00:00:00.100",
        }).Build();
        var services = new ServiceCollection();
        services.AddRideBookingData(configuration.GetSection("RideBooking"));
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });

        var options = provider.GetRequiredService<IOptions<RideBookingOptions>>().Value;
        Assert.Null(options.ConnectionString);
        Assert.Equal(3, options.Shards.Count);
        Assert.Equal(ShardTopology.Primary(0), options.Shards[0].Primary);
        Assert.Equal([ShardTopology.Replica(0, 0), ShardTopology.Replica(0, 1)], options.Shards[0].Replicas);
        Assert.Equal(ShardTopology.Primary(1), options.Shards[1].Primary);
        Assert.Empty(options.Shards[1].Replicas);
        Assert.Equal([ShardTopology.Replica(2, 0)], options.Shards[2].Replicas);
        Assert.Equal(TimeSpan.FromSeconds(2), options.MaxReplicaLag);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.ReplicaWaitTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.ReplicaCheckInterval);

        Assert.Equal(3, provider.GetRequiredService<IShardResolver>().PhysicalShardCount);
        var dataSource = provider.GetRequiredService<RideBookingDataSource>();
        Assert.Equal([2, 0, 1], dataSource.Shards.Select(s => s.Replicas.Length));
        Assert.True(dataSource.HasReplicas);
    }

    [Fact]
    public void Replica_defaults_are_the_documented_values()
    {
        var options = new RideBookingOptions();
        Assert.Empty(options.Shards);
        Assert.Equal(TimeSpan.FromSeconds(5), options.MaxReplicaLag);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.ReplicaWaitTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), options.ReplicaCheckInterval);
        Assert.Empty(new ShardOptions().Replicas);
        Assert.Empty(Failures(ShardTopology.Options(4, replicasPerShard: 2)));
    }

    [Fact]
    public void Neither_form_is_an_error() =>
        Assert.Contains(Failures(new RideBookingOptions()), f => f.Contains("is required", StringComparison.Ordinal));

    [Fact]
    public void Both_forms_are_an_error()
    {
        var options = ShardTopology.Options(2);
        options.ConnectionString = "Server=other.example.invalid;Database=rides";
        Assert.Contains(Failures(options), f => f.Contains("not both", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void An_empty_primary_is_an_error(string? primary)
    {
        var failures = Failures(WithShards(Shard(ShardTopology.Primary(0)), Shard(primary)));
        Assert.Equal("RideBooking:Shards:1:Primary is required.", Assert.Single(failures));
    }

    [Fact]
    public void An_empty_replica_or_shard_is_an_error()
    {
        var options = WithShards(Shard(ShardTopology.Primary(0), " "), Shard(ShardTopology.Primary(1)));
        options.Shards.Add(null!);
        var failures = Failures(options);
        Assert.Equal(2, failures.Length);
        Assert.Contains("RideBooking:Shards:0:Replicas:0 is empty.", failures);
        Assert.Contains("RideBooking:Shards:2 is empty.", failures);
    }

    [Theory]
    [InlineData($"Server=db;Port=notanumber;Password={Password}")]
    [InlineData($"Server=db;SslMode=Bogus;Password={Password};Database=rides")]
    [InlineData($"Password={Password};NoSuchKeyword=1")]
    [InlineData($"Server=db;Password={Password};Database")]
    public void An_invalid_connection_string_is_an_error_that_does_not_echo_the_password(string connectionString)
    {
        var failures = Failures(WithShards(Shard(ShardTopology.Primary(0)), Shard(ShardTopology.Primary(1), connectionString)));
        var failure = Assert.Single(failures);
        Assert.Equal("RideBooking:Shards:1:Replicas:0 is not a valid MySQL connection string.", failure);

        var services = new ServiceCollection();
        services.AddRideBookingData(o => o.Shards.Add(Shard(connectionString)));
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RideBookingOptions>>().Value);
        Assert.DoesNotContain(Password, ex.Message, StringComparison.Ordinal);
        Assert.All(ex.Failures, f => Assert.DoesNotContain(Password, f, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Server=db.example.invalid;User ID=app;Password=secret-pw")]
    [InlineData("Server=db.example.invalid;Database= ;Password=secret-pw")]
    public void A_connection_string_without_a_database_is_an_error(string connectionString)
    {
        var shards = Failures(WithShards(Shard(ShardTopology.Primary(0), connectionString), Shard(connectionString)));
        Assert.Equal(2, shards.Length);
        Assert.StartsWith("RideBooking:Shards:0:Replicas:0 names no database", shards[0], StringComparison.Ordinal);
        Assert.StartsWith("RideBooking:Shards:1:Primary names no database", shards[1], StringComparison.Ordinal);
        Assert.All(shards, f => Assert.DoesNotContain("secret-pw", f, StringComparison.Ordinal));

        var single = Failures(new RideBookingOptions { ConnectionString = connectionString });
        Assert.StartsWith("RideBooking:ConnectionString names no database", Assert.Single(single), StringComparison.Ordinal);
    }

    [Fact]
    public void A_primary_reused_as_a_replica_is_an_error()
    {
        var failures = Failures(WithShards(Shard(ShardTopology.Primary(0), ShardTopology.Primary(0))));
        var failure = Assert.Single(failures);
        Assert.Contains("RideBooking:Shards:0:Replicas:0", failure, StringComparison.Ordinal);
        Assert.Contains("RideBooking:Shards:0:Primary", failure, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-pw", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_primaries_on_the_same_server_and_database_are_an_error_however_they_are_written()
    {
        var failures = Failures(WithShards(
            Shard("Server=db1.example.invalid;Database=rides;User ID=a;Password=one"),
            Shard("server=DB1.example.invalid;port=3306;database=RIDES;uid=b;pwd=two"),
            Shard("Server=db1.example.invalid;Port=3307;Database=rides"),
            Shard("Server=db1.example.invalid;Database=rides_2")));
        var failure = Assert.Single(failures);
        Assert.StartsWith("RideBooking:Shards:1:Primary names the same server and database as RideBooking:Shards:0:Primary", failure, StringComparison.Ordinal);
        Assert.DoesNotContain("two", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shard_primary_that_is_the_replica_of_another_shard_is_an_error()
    {
        var failures = Failures(WithShards(Shard(ShardTopology.Primary(0), ShardTopology.Replica(0, 0)), Shard(ShardTopology.Replica(0, 0))));
        Assert.StartsWith("RideBooking:Shards:1:Primary names the same server", Assert.Single(failures), StringComparison.Ordinal);
    }

    [Fact]
    public void At_most_256_shards()
    {
        Assert.Empty(Failures(ShardTopology.Options(256)));
        var failure = Assert.Single(Failures(ShardTopology.Options(257)));
        Assert.Contains("257 shards", failure, StringComparison.Ordinal);
    }

    public static TheoryData<string, TimeSpan> OutOfRange => new()
    {
        { nameof(RideBookingOptions.MaxReplicaLag), TimeSpan.Zero },
        { nameof(RideBookingOptions.MaxReplicaLag), TimeSpan.FromSeconds(-1) },
        { nameof(RideBookingOptions.MaxReplicaLag), TimeSpan.FromHours(1) + TimeSpan.FromTicks(1) },
        { nameof(RideBookingOptions.ReplicaWaitTimeout), TimeSpan.FromTicks(-1) },
        { nameof(RideBookingOptions.ReplicaWaitTimeout), TimeSpan.FromSeconds(30) + TimeSpan.FromTicks(1) },
        { nameof(RideBookingOptions.ReplicaCheckInterval), TimeSpan.Zero },
        { nameof(RideBookingOptions.ReplicaCheckInterval), TimeSpan.FromMilliseconds(10) - TimeSpan.FromTicks(1) },
        { nameof(RideBookingOptions.ReplicaCheckInterval), TimeSpan.FromMinutes(1) + TimeSpan.FromTicks(1) },
        { nameof(RideBookingOptions.RecoveryGracePeriod), TimeSpan.FromSeconds(1) - TimeSpan.FromTicks(1) },
        { nameof(RideBookingOptions.RecoveryGracePeriod), TimeSpan.FromDays(1) + TimeSpan.FromTicks(1) },
        { nameof(RideBookingOptions.RecoveryInterval), TimeSpan.Zero },
        { nameof(RideBookingOptions.RecoveryInterval), TimeSpan.FromDays(2) },
    };

    public static TheoryData<string, TimeSpan> Limits => new()
    {
        { nameof(RideBookingOptions.MaxReplicaLag), TimeSpan.FromMilliseconds(1) },
        { nameof(RideBookingOptions.MaxReplicaLag), TimeSpan.FromHours(1) },
        { nameof(RideBookingOptions.ReplicaWaitTimeout), TimeSpan.Zero },
        { nameof(RideBookingOptions.ReplicaWaitTimeout), TimeSpan.FromSeconds(30) },
        { nameof(RideBookingOptions.ReplicaCheckInterval), TimeSpan.FromMilliseconds(10) },
        { nameof(RideBookingOptions.ReplicaCheckInterval), TimeSpan.FromMinutes(1) },
        { nameof(RideBookingOptions.RecoveryGracePeriod), TimeSpan.FromSeconds(1) },
        { nameof(RideBookingOptions.RecoveryGracePeriod), TimeSpan.FromDays(1) },
        { nameof(RideBookingOptions.RecoveryInterval), TimeSpan.FromSeconds(1) },
        { nameof(RideBookingOptions.RecoveryInterval), TimeSpan.FromDays(1) },
    };

    private static RideBookingOptions WithSetting(string setting, TimeSpan value)
    {
        var options = ShardTopology.Options(2, replicasPerShard: 1);
        typeof(RideBookingOptions).GetProperty(setting)!.SetValue(options, value);
        return options;
    }

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void Replica_settings_out_of_range_are_errors(string setting, TimeSpan value) =>
        Assert.StartsWith($"RideBooking:{setting} must be", Assert.Single(Failures(WithSetting(setting, value))), StringComparison.Ordinal);

    [Theory]
    [MemberData(nameof(Limits))]
    public void Replica_settings_at_their_limits_are_valid(string setting, TimeSpan value) =>
        Assert.Empty(Failures(WithSetting(setting, value)));

    [Fact]
    public void Every_problem_is_listed_in_one_error()
    {
        var services = new ServiceCollection();
        services.AddRideBookingData(o =>
        {
            o.ConnectionString = ShardTopology.Primary(9);
            o.Shards.Add(Shard(ShardTopology.Primary(0), ShardTopology.Primary(0)));
            o.Shards.Add(Shard(null));
            o.Shards.Add(Shard($"Server=db;Password={Password};Bogus=1"));
            o.MaxReplicaLag = TimeSpan.Zero;
            o.ReplicaWaitTimeout = TimeSpan.FromMinutes(1);
            o.ReplicaCheckInterval = TimeSpan.FromMilliseconds(1);
        });
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RideBookingOptions>>().Value);
        var failures = ex.Failures.ToList();
        Assert.Equal(7, failures.Count);
        Assert.Contains(failures, f => f.Contains("not both", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("RideBooking:Shards:0:Replicas:0 names the same server", StringComparison.Ordinal));
        Assert.Contains("RideBooking:Shards:1:Primary is required.", failures);
        Assert.Contains("RideBooking:Shards:2:Primary is not a valid MySQL connection string.", failures);
        Assert.Contains(failures, f => f.StartsWith("RideBooking:MaxReplicaLag", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("RideBooking:ReplicaWaitTimeout", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("RideBooking:ReplicaCheckInterval", StringComparison.Ordinal));
        Assert.DoesNotContain(Password, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-pw", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(typeof(IShardResolver))]
    [InlineData(typeof(IReadYourWrites))]
    [InlineData(typeof(IShardMap))]
    public void Shard_services_are_registered_once_as_singletons_even_when_added_twice(Type service)
    {
        var services = new ServiceCollection();
        services.AddRideBookingData(o => o.ConnectionString = ShardTopology.Primary(0));
        services.AddRideBookingData(o => o.ConnectionString = ShardTopology.Primary(0));

        var descriptor = Assert.Single(services, d => d.ServiceType == service);
        Assert.Equal(ServiceLifetime.Singleton, descriptor.Lifetime);
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        Assert.Same(provider.GetRequiredService(service), provider.GetRequiredService(service));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<RideBookingOptions>));
    }
}
