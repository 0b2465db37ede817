using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using RideBooking.Data.Internal;

namespace RideBooking.Data;

/// <summary>Adds the RideBooking.Data health check to a host's health checks.</summary>
public static class RideBookingHealthChecksBuilderExtensions
{
    /// <summary>The name the check is registered under unless another is given: "ridebooking-data".</summary>
    public const string DefaultName = "ridebooking-data";

    /// <summary>
    /// Adds a health check of the servers <see cref="RideBookingServiceCollectionExtensions.AddRideBookingData(IServiceCollection, Action{RideBookingOptions})"/>
    /// configured. It probes every server at once, each on a connection of its own with a short timeout, and reports:
    /// <list type="bullet">
    /// <item><description>every primary reachable, else <paramref name="failureStatus"/>;</description></item>
    /// <item><description>
    /// the schema present and current on every primary: every shipped script recorded in <c>schema_history</c>, and the UNIQUE
    /// keys the invariants rest on present (the active-ride rule on <c>rides(active_user_id)</c> and <c>rides(active_driver_id)</c>,
    /// <c>payments(transaction_id)</c>, <c>payments(ride_id)</c>, <c>users(phone)</c>), else <paramref name="failureStatus"/>;
    /// </description></item>
    /// <item><description>
    /// every replica reachable, replicating and at most <see cref="RideBookingOptions.MaxReplicaLag"/> behind, else
    /// <see cref="HealthStatus.Degraded"/> (its reads go to the primary meanwhile).
    /// </description></item>
    /// </list>
    /// The description names each server with a problem ("shard 1 replica 0 is not replicating (replication is stopped)");
    /// the data holds one entry per server, schema and replica lag. No connection string appears in the report.
    /// </summary>
    /// <param name="builder">The health checks builder (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="name">The check's name; <see cref="DefaultName"/> when <see langword="null"/>.</param>
    /// <param name="failureStatus">The status of a primary or schema problem; <see cref="HealthStatus.Unhealthy"/> when <see langword="null"/>.</param>
    /// <param name="tags">Tags to filter the check by (for example "ready").</param>
    /// <param name="timeout">How long each server may take to answer; 2 seconds when <see langword="null"/>.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is not positive.</exception>
    public static IHealthChecksBuilder AddRideBookingData(
        this IHealthChecksBuilder builder,
        string? name = null,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var probeTimeout = timeout ?? TimeSpan.FromSeconds(2);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(probeTimeout, TimeSpan.Zero, nameof(timeout));
        return builder.Add(new HealthCheckRegistration(
            name ?? DefaultName,
            sp => new RideBookingHealthCheck(sp.GetRequiredService<RideBookingDataSource>(), sp.GetRequiredService<IOptions<RideBookingOptions>>(), probeTimeout),
            failureStatus ?? HealthStatus.Unhealthy,
            tags));
    }
}
