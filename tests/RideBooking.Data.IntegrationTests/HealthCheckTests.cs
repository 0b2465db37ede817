using System.Net;
using System.Net.Sockets;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MySqlConnector;
using RideBooking.Data.Testing;

namespace RideBooking.Data.IntegrationTests;

/// <summary>The health check as a host runs it (<c>HealthCheckService</c>), against real servers.</summary>
public sealed class HealthCheckTests
{
    /// <summary>The library and its health check over the given options, as a host registers them.</summary>
    internal static ServiceProvider Host(Action<RideBookingOptions> configure, HealthStatus? failureStatus = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddRideBookingData(configure);
        services.AddHealthChecks().AddRideBookingData(failureStatus: failureStatus, timeout: TimeSpan.FromSeconds(2));
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    internal static async Task<HealthReportEntry> CheckAsync(IServiceProvider services)
    {
        var report = await services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return Assert.Single(report.Entries, e => e.Key == RideBookingHealthChecksBuilderExtensions.DefaultName).Value;
    }

    /// <summary>Checks every 250 ms until <paramref name="done"/> holds or <paramref name="timeout"/> has passed; returns the last check.</summary>
    internal static async Task<HealthReportEntry> CheckUntilAsync(IServiceProvider services, Func<HealthReportEntry, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var entry = await CheckAsync(services);
        while (!done(entry) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            entry = await CheckAsync(services);
        }

        return entry;
    }

    /// <summary>The report, as text: what a health endpoint would show.</summary>
    internal static string Text(HealthReportEntry entry) =>
        entry.Status + ": " + entry.Description + " | " + string.Join("; ", entry.Data.Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>No connection string, no password, no user name in the report.</summary>
    internal static void AssertNoSecrets(HealthReportEntry entry, params string[] connectionStrings)
    {
        var text = Text(entry);
        Assert.DoesNotContain("Password", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Server=", text, StringComparison.OrdinalIgnoreCase);
        foreach (var connectionString in connectionStrings)
        {
            var builder = new MySqlConnectionStringBuilder(connectionString);
            if (!string.IsNullOrEmpty(builder.Password))
            {
                Assert.DoesNotContain(builder.Password, text, StringComparison.Ordinal);
            }

            Assert.DoesNotContain(connectionString, text, StringComparison.Ordinal);
        }
    }

    /// <summary>A loopback port nobody listens on: a stopped server.</summary>
    internal static string StoppedServer(string like)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new MySqlConnectionStringBuilder(like) { Server = "127.0.0.1", Port = (uint)port }.ConnectionString;
    }

    [Fact]
    public async Task A_fresh_database_is_healthy_with_the_current_schema()
    {
        await using var db = await RideBookingTestDatabase.CreateAsync();
        await using var services = Host(o => o.ConnectionString = db.ConnectionString);

        var entry = await CheckAsync(services);

        Assert.True(entry.Status == HealthStatus.Healthy, Text(entry));
        Assert.Equal("reachable", entry.Data["shard 0 primary"]);
        Assert.Equal("current", entry.Data["shard 0 schema"]);
        AssertNoSecrets(entry, db.ConnectionString);
    }

    [Fact]
    public async Task A_missing_unique_index_of_the_active_ride_rule_is_unhealthy()
    {
        await using var db = await RideBookingTestDatabase.CreateAsync();
        await using (var connection = new MySqlConnection(db.ConnectionStringFor(RideBookingTestAccount.Administrator)))
        {
            await connection.ExecuteAsync("ALTER TABLE rides DROP INDEX uq_rides_active_driver");
        }

        await using var services = Host(o => o.ConnectionString = db.ConnectionString);
        var entry = await CheckAsync(services);

        Assert.True(entry.Status == HealthStatus.Unhealthy, Text(entry));
        Assert.Contains("no UNIQUE index on rides(active_driver_id)", entry.Description, StringComparison.Ordinal);
        Assert.Contains("shard 0 schema", entry.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("active_user_id", entry.Description, StringComparison.Ordinal);
        AssertNoSecrets(entry, db.ConnectionString);

        // Applying the schema again does not bring it back (CREATE TABLE IF NOT EXISTS keeps the table): the check is what tells.
        await RideBookingSchema.ApplyAsync(db.ConnectionStringFor(RideBookingTestAccount.Migration));
        Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(services)).Status);
    }

    [Fact]
    public async Task A_script_missing_from_schema_history_is_unhealthy_and_named()
    {
        await using var db = await RideBookingTestDatabase.CreateAsync();
        var last = RideBookingSchema.Scripts[^1].Key;
        await using (var connection = new MySqlConnection(db.ConnectionStringFor(RideBookingTestAccount.Administrator)))
        {
            await connection.ExecuteAsync("DELETE FROM schema_history WHERE script = @last", new { last });
        }

        await using var services = Host(o => o.ConnectionString = db.ConnectionString);
        var entry = await CheckAsync(services);

        Assert.True(entry.Status == HealthStatus.Unhealthy, Text(entry));
        Assert.Contains($"scripts not applied: {last}", entry.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stopped_primary_is_reported_with_the_hosts_failure_status_and_without_its_connection_string()
    {
        await using var db = await RideBookingTestDatabase.CreateAsync();
        var stopped = StoppedServer(db.ConnectionString);
        await using var services = Host(
            o =>
            {
                o.Shards.Add(new ShardOptions { Primary = db.ConnectionString });
                o.Shards.Add(new ShardOptions { Primary = stopped });
            },
            HealthStatus.Degraded);

        var entry = await CheckAsync(services);

        Assert.True(entry.Status == HealthStatus.Degraded, Text(entry));
        Assert.StartsWith("did not answer", (string)entry.Data["shard 1 primary"], StringComparison.Ordinal);
        Assert.Contains("shard 1 primary did not answer", entry.Description, StringComparison.Ordinal);
        Assert.Equal("current", entry.Data["shard 0 schema"]);
        AssertNoSecrets(entry, db.ConnectionString, stopped);
    }

    [Fact]
    public async Task A_stopped_replica_is_degraded_and_named_while_its_primary_stays_healthy()
    {
        await using var db = await RideBookingTestDatabase.CreateAsync();
        var stopped = StoppedServer(db.ConnectionString);
        await using var services = Host(o =>
        {
            var shard = new ShardOptions { Primary = db.ConnectionString };
            shard.Replicas.Add(stopped);
            o.Shards.Add(shard);
        });

        var entry = await CheckAsync(services);

        Assert.True(entry.Status == HealthStatus.Degraded, Text(entry));
        Assert.Contains("shard 0 replica 0 did not answer", entry.Description, StringComparison.Ordinal);
        Assert.Equal("reachable", entry.Data["shard 0 primary"]);
        Assert.Equal("current", entry.Data["shard 0 schema"]);
        AssertNoSecrets(entry, db.ConnectionString, stopped);
    }
}

/// <summary>The health check of a cluster whose replication is stopped (one at a time: it changes the shared servers).</summary>
[Collection(ReplicationTestGroup.Name)]
public sealed class ClusterHealthCheckTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Every_server_of_a_cluster_is_checked_and_a_replica_whose_replication_is_stopped_is_degraded_with_its_shard_and_replica()
    {
        await fixture.Cluster.WaitForReplicationAsync();
        await using var services = HealthCheckTests.Host(fixture.Cluster.Configure);

        // A replica whose replication an earlier test of the collection restarted may still be connecting to its primary.
        var healthy = await HealthCheckTests.CheckUntilAsync(services, e => e.Status == HealthStatus.Healthy, TimeSpan.FromSeconds(30));

        Assert.True(healthy.Status == HealthStatus.Healthy, HealthCheckTests.Text(healthy));
        for (var shard = 0; shard < ClusterFixture.ShardCount; shard++)
        {
            Assert.Equal("reachable", healthy.Data[$"shard {shard} primary"]);
            Assert.Equal("current", healthy.Data[$"shard {shard} schema"]);
            Assert.StartsWith("replicating", (string)healthy.Data[$"shard {shard} replica 0"], StringComparison.Ordinal);
            Assert.IsType<double>(healthy.Data[$"shard {shard} replica 0 lag seconds"]);
        }

        await fixture.Cluster.StopReplicationAsync(2, 0, sqlThreadOnly: false);
        try
        {
            var stopped = await HealthCheckTests.CheckAsync(services);

            Assert.True(stopped.Status == HealthStatus.Degraded, HealthCheckTests.Text(stopped));
            Assert.Equal("shard 2 replica 0 is not replicating (replication is stopped)", stopped.Description);
            Assert.StartsWith("replicating", (string)stopped.Data["shard 1 replica 0"], StringComparison.Ordinal);
            HealthCheckTests.AssertNoSecrets(stopped, [.. fixture.Cluster.Shards.SelectMany(s => s.Replicas.Prepend(s.Primary))]);
        }
        finally
        {
            await fixture.Cluster.StartReplicationAsync(2, 0);
        }

        // START REPLICA returns before the replica's threads run and report it: wait for the check to see it (bounded).
        await fixture.Cluster.WaitForReplicationAsync();
        var back = await HealthCheckTests.CheckUntilAsync(services, e => e.Status == HealthStatus.Healthy, TimeSpan.FromSeconds(30));

        Assert.True(back.Status == HealthStatus.Healthy, HealthCheckTests.Text(back));
    }

    [Fact]
    public async Task A_replica_lagging_more_than_MaxReplicaLag_is_degraded_with_its_lag()
    {
        await fixture.Cluster.WaitForReplicationAsync();
        await using var services = HealthCheckTests.Host(o =>
        {
            fixture.Cluster.Configure(o);
            o.MaxReplicaLag = TimeSpan.FromSeconds(1);
        });
        await fixture.Cluster.SetReplicationDelayAsync(3, 0, TimeSpan.FromSeconds(30));
        try
        {
            // Setting the delay restarts the replica, and START REPLICA returns before its threads run and report it:
            // wait (bounded) until the check sees it replicating again, so that what follows is lag, not a stopped replica.
            var restarted = await HealthCheckTests.CheckUntilAsync(services, e => e.Status == HealthStatus.Healthy, TimeSpan.FromSeconds(30));

            Assert.True(restarted.Status == HealthStatus.Healthy, HealthCheckTests.Text(restarted));

            // A write the delayed replica holds back: its lag grows past the limit while it still replicates.
            await fixture.InsertUserAsync(3, "Lagging");
            var lagging = await HealthCheckTests.CheckUntilAsync(services, e => e.Status != HealthStatus.Healthy, TimeSpan.FromSeconds(60));

            Assert.True(lagging.Status == HealthStatus.Degraded, HealthCheckTests.Text(lagging));
            Assert.StartsWith("shard 3 replica 0 lags ", lagging.Description, StringComparison.Ordinal);
            Assert.EndsWith("behind its primary (limit 1 s)", lagging.Description, StringComparison.Ordinal);
            Assert.True((double)lagging.Data["shard 3 replica 0 lag seconds"] > 1, HealthCheckTests.Text(lagging));
        }
        finally
        {
            await fixture.Cluster.SetReplicationDelayAsync(3, 0, TimeSpan.Zero);
        }

        await fixture.Cluster.WaitForReplicationAsync();
    }
}
