using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Internal;
using RideBooking.Data.Testing.Internal;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// A database with the schema on the shared 3-node Galera cluster of the test kit (started once per test run), and the
/// library registered against it. Tests that kill nodes belong to <see cref="GaleraTestGroup"/>: they run one at a time.
/// </summary>
public sealed class GaleraFixture : IAsyncLifetime
{
    private GaleraCluster? _cluster;

    internal GaleraCluster Cluster => _cluster ?? throw new InvalidOperationException("Not initialized.");

    public string DatabaseName { get; private set; } = string.Empty;

    /// <summary>Node <paramref name="node"/> alone, with the database.</summary>
    public string Node(int node) => Cluster.Node(node, DatabaseName);

    /// <summary>Every node, starting with <paramref name="first"/>, with failover to the others.</summary>
    public string Failover(int first) => Cluster.Failover(first, DatabaseName);

    public IEnumerable<string> Nodes => Enumerable.Range(0, GaleraCluster.NodeCount).Select(Node);

    public async Task InitializeAsync()
    {
        _cluster = await GaleraCluster.SharedAsync(CancellationToken.None);
        await _cluster.WaitAllSyncedAsync(TimeSpan.FromSeconds(180), CancellationToken.None);
        DatabaseName = await _cluster.CreateDatabaseAsync(CancellationToken.None);
        await RideBookingSchema.ApplyAsync(Node(0));
        await SyncAllAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null && DatabaseName.Length > 0)
        {
            await _cluster.WaitAllSyncedAsync(TimeSpan.FromSeconds(180), CancellationToken.None);
            await _cluster.DropDatabaseAsync(DatabaseName, CancellationToken.None);
        }
    }

    /// <summary>
    /// A causality barrier on every node: once it returns, each node has applied every transaction the cluster committed
    /// before the call (wsrep_sync_wait makes the read wait for it).
    /// </summary>
    public async Task SyncAllAsync()
    {
        foreach (var node in Nodes)
        {
            await using var connection = new MySqlConnection(node);
            await connection.OpenAsync();
            await connection.ExecuteAsync("SET SESSION wsrep_sync_wait = 1");
            await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM drivers WHERE id = 0");
        }
    }

    public static ServiceProvider Services(string connectionString) => DatabaseFixture.BuildServices(connectionString, o =>
    {
        // Certification conflicts are retried as deadlocks: races over three nodes need a few more attempts.
        o.MaxTransactionRetries = 8;
    });

    /// <summary>Users and drivers created through node 0, visible on every node when this returns.</summary>
    public async Task<(List<User> Users, List<Driver> Drivers)> SeedAsync(int users, int drivers)
    {
        await using var services = Services(Node(0));
        var userRepository = services.GetRequiredService<IUserRepository>();
        var driverRepository = services.GetRequiredService<IDriverRepository>();
        var createdUsers = new List<User>();
        var createdDrivers = new List<Driver>();
        for (var i = 0; i < users; i++)
        {
            createdUsers.Add(await userRepository.CreateAsync("Rider " + i, NextPhone()));
        }

        for (var i = 0; i < drivers; i++)
        {
            createdDrivers.Add(await driverRepository.CreateAsync("Driver " + i, "KA-" + (1000 + i)));
        }

        await SyncAllAsync();
        return (createdUsers, createdDrivers);
    }

    /// <summary>The invariants of the design on every node, each node's database taken as the whole data set.</summary>
    public async Task AssertInvariantsOnEveryNodeAsync()
    {
        await SyncAllAsync();

        // Every node holds the same rows (a node that rejoined after a crash included).
        var tables = new[] { "rides", "drivers", "driver_earnings", "users", "payments" };
        var first = new Dictionary<string, Dictionary<string, string>>();
        var differences = new List<string>();
        var nodeIndex = 0;
        foreach (var node in Nodes)
        {
            await using var connection = new MySqlConnection(node);
            foreach (var table in tables)
            {
                var rows = new Dictionary<string, string>();
                await using (var reader = await connection.ExecuteReaderAsync($"SELECT * FROM {table}"))
                {
                    while (await reader.ReadAsync())
                    {
                        var values = Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                        rows[values[0]!] = string.Join(" | ", values);
                    }
                }

                if (!first.TryGetValue(table, out var reference))
                {
                    first[table] = rows;
                    continue;
                }

                foreach (var key in reference.Keys.Union(rows.Keys))
                {
                    var expected = reference.GetValueOrDefault(key) ?? "(absent)";
                    var actual = rows.GetValueOrDefault(key) ?? "(absent)";
                    if (expected != actual)
                    {
                        differences.Add($"{table} {key}: node 1 [{expected}] node {nodeIndex + 1} [{actual}]");
                    }
                }
            }

            nodeIndex++;
        }

        Assert.True(differences.Count == 0, $"the nodes hold different rows ({differences.Count}): " + string.Join("; ", differences.Take(12)));
        var index = 0;
        foreach (var node in Nodes)
        {
            try
            {
                await CrossShardInvariants.AssertAllAsync([node]);
            }
            catch (Exception ex) when (ex is Xunit.Sdk.XunitException)
            {
                throw new Xunit.Sdk.XunitException($"node {index + 1}: {ex.Message}");
            }

            index++;
        }
    }

    private long _phones = (DateTime.UtcNow.Ticks / 10_000) % 1_000_000_000;

    private string NextPhone() => $"+44{Interlocked.Increment(ref _phones):D10}";
}

/// <summary>Tests on the Galera cluster: one at a time (some kill and restart a node of the shared cluster).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GaleraTestGroup : ICollectionFixture<GaleraFixture>
{
    public const string Name = "Galera";
}
