using System.Diagnostics;
using RideBooking.Data;
using RideBooking.Data.Testing;

namespace RideBooking.WebApi;

/// <summary>
/// The throwaway database or cluster the sample starts through RideBooking.Data.Testing when no server is configured;
/// the application's container disposes it, which drops the database.
/// </summary>
internal sealed class ThrowawayServers : IAsyncDisposable
{
    private readonly RideBookingTestDatabase? _database;
    private readonly RideBookingTestCluster? _cluster;

    private ThrowawayServers(RideBookingTestDatabase? database, RideBookingTestCluster? cluster)
    {
        _database = database;
        _cluster = cluster;
    }

    /// <summary>Gets a value indicating whether the sample started its own servers.</summary>
    public bool Started => _database is not null || _cluster is not null;

    public static async Task<ThrowawayServers> StartIfNoneConfiguredAsync(IConfiguration configuration, bool sharded, TextWriter log, CancellationToken ct)
    {
        var startedAt = Stopwatch.GetTimestamp();
        if (configuration.GetSection("RideBooking:Shards").GetChildren().Any())
        {
            log.WriteLine("Using the configured RideBooking:Shards.");
            return new ThrowawayServers(null, null);
        }

        var configured = configuration["RideBooking:ConnectionString"];
        if (!sharded && !string.IsNullOrWhiteSpace(configured))
        {
            log.WriteLine("Applying the schema scripts to the configured database (idempotent)...");
            await RideBookingSchema.ApplyAsync(configured, ct);
            return new ThrowawayServers(null, null);
        }

        if (sharded)
        {
            var shards = configuration.GetValue("Sample:ThrowawayShards", 4);
            var replicas = configuration.GetValue("Sample:ThrowawayReplicas", 1);
            log.WriteLine($"Sharded mode, no RideBooking:Shards configured: starting a throwaway cluster of {shards} primaries x {replicas} replicas (RideBooking.Data.Testing)...");
            var cluster = await RideBookingTestCluster.CreateAsync(shards, replicas, ct);
            log.WriteLine($"Ready in {Stopwatch.GetElapsedTime(startedAt).TotalSeconds:F1} s; database {cluster.DatabaseName} is dropped at exit.");
            configuration["RideBooking:ConnectionString"] = "";
            for (var i = 0; i < cluster.Shards.Count; i++)
            {
                configuration[$"RideBooking:Shards:{i}:Primary"] = cluster.Shards[i].Primary;
                for (var r = 0; r < cluster.Shards[i].Replicas.Count; r++)
                {
                    configuration[$"RideBooking:Shards:{i}:Replicas:{r}"] = cluster.Shards[i].Replicas[r];
                }
            }

            return new ThrowawayServers(null, cluster);
        }

        log.WriteLine("No RideBooking:ConnectionString is configured: starting a throwaway database (RideBooking.Data.Testing)...");
        var database = await RideBookingTestDatabase.CreateAsync(ct);
        log.WriteLine($"Using {database.ServerDescription}, from {database.Source}, ready in {Stopwatch.GetElapsedTime(startedAt).TotalSeconds:F1} s; database {database.DatabaseName} is dropped at exit.");
        configuration["RideBooking:ConnectionString"] = database.ConnectionString;
        return new ThrowawayServers(database, null);
    }

    public async ValueTask DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}
