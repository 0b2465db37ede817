using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using MySqlConnector;

namespace RideBooking.Data.Testing.Internal;

/// <summary>A shard as given in <c>RIDEBOOKING_TOPOLOGY</c>.</summary>
internal sealed record TopologyShard(string Primary, IReadOnlyList<string> Replicas);

/// <summary>What the cluster locator looks at; tests replace parts of it.</summary>
internal sealed class TestClusterDiscovery
{
    public const string EnvironmentVariableName = "RIDEBOOKING_TOPOLOGY";

    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    public IReadOnlyList<string> BinaryDirectories { get; init; } = LocalServer.DefaultDirectories();

    public Func<string, int, int, CancellationToken, Task<ClusterServers>> StartLocalCluster { get; init; } = LocalCluster.StartAsync;
}

/// <summary>Finds or starts the servers of each cluster shape once per process and remembers them (or the failure).</summary>
internal sealed class TestClusterLocator(TestClusterDiscovery discovery)
{
    private readonly ConcurrentDictionary<(int Shards, int Replicas), Lazy<Task<ClusterServers>>> _clusters = new();

    public static TestClusterLocator Shared { get; } = new(new TestClusterDiscovery());

    public Task<ClusterServers> GetAsync(int shards, int replicasPerShard, CancellationToken ct) =>
        _clusters.GetOrAdd(
            (shards, replicasPerShard),
            shape => new Lazy<Task<ClusterServers>>(() => Task.Run(() => ResolveAsync(shape.Shards, shape.Replicas, CancellationToken.None), CancellationToken.None)))
        .Value.WaitAsync(ct);

    internal async Task<ClusterServers> ResolveAsync(int shards, int replicasPerShard, CancellationToken ct)
    {
        var json = discovery.GetEnvironmentVariable(TestClusterDiscovery.EnvironmentVariableName);
        if (!string.IsNullOrWhiteSpace(json))
        {
            var stopwatch = Stopwatch.StartNew();
            var topology = ParseTopology(json);
            CheckShape(topology, shards, replicasPerShard);
            var result = await Task.WhenAll(topology.Select(async shard =>
                new ClusterShard(
                    await ConnectAsync(shard.Primary, ct).ConfigureAwait(false),
                    await Task.WhenAll(shard.Replicas.Select(replica => ConnectAsync(replica, ct))).ConfigureAwait(false)))).ConfigureAwait(false);
            return new ClusterServers(result, TestServerSource.EnvironmentVariable, stopwatch.Elapsed);
        }

        var binary = LocalServer.FindBinary(discovery.BinaryDirectories)
            ?? throw new InvalidOperationException(NoServerMessage(string.Equals(discovery.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)));
        return await discovery.StartLocalCluster(binary, shards, replicasPerShard, ct).ConfigureAwait(false);
    }

    internal static string NoServerMessage(bool onCi) =>
        "No MySQL or MariaDB servers are available for a RideBooking.Data test cluster" + (onCi ? " on this CI runner" : string.Empty) + ". Provide them in either of these ways:" + Environment.NewLine +
        $"  1. set the environment variable {TestClusterDiscovery.EnvironmentVariableName} to a JSON array with one object per shard, " +
        "[{\"Primary\":\"Server=...;User ID=...;Password=...\",\"Replicas\":[\"Server=...\"]}], naming servers whose user may create databases, " +
        "each replica already replicating from its primary by GTID;" + Environment.NewLine +
        "  2. install a MariaDB or MySQL server binary (mariadbd or mysqld on PATH or in /usr/sbin), for example 'apt-get install mariadb-server' on Debian or Ubuntu " +
        "(in a CI workflow, a step before the tests); the tests then start throwaway primaries and replicas of it on 127.0.0.1.";

    /// <summary>Reads the JSON of <c>RIDEBOOKING_TOPOLOGY</c>. Errors name positions, never values: they may hold passwords.</summary>
    internal static IReadOnlyList<TopologyShard> ParseTopology(string json)
    {
        const string Name = TestClusterDiscovery.EnvironmentVariableName;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            // Not the parser's message: it quotes the offending text.
            throw new InvalidOperationException($"{Name} is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}); expected [{{\"Primary\":\"...\",\"Replicas\":[\"...\"]}}, ...].");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array || document.RootElement.GetArrayLength() == 0)
            {
                throw new InvalidOperationException($"{Name} must be a non-empty JSON array with one object per shard: [{{\"Primary\":\"...\",\"Replicas\":[\"...\"]}}, ...].");
            }

            var shards = new List<TopologyShard>();
            foreach (var element in document.RootElement.EnumerateArray())
            {
                var where = $"{Name}[{shards.Count}]";
                if (element.ValueKind != JsonValueKind.Object)
                {
                    throw new InvalidOperationException($"{where} must be an object with \"Primary\" and \"Replicas\".");
                }

                string? primary = null;
                var replicas = new List<string>();
                foreach (var property in element.EnumerateObject())
                {
                    if (property.NameEquals("Primary"))
                    {
                        primary = ConnectionString(property.Value, $"{where}.Primary");
                    }
                    else if (property.NameEquals("Replicas") && property.Value.ValueKind == JsonValueKind.Array)
                    {
                        replicas.AddRange(property.Value.EnumerateArray().Select((replica, i) => ConnectionString(replica, $"{where}.Replicas[{i}]")));
                    }
                    else
                    {
                        throw new InvalidOperationException($"{where} has an unexpected property or value \"{property.Name}\"; only \"Primary\" (a string) and \"Replicas\" (an array of strings) are read.");
                    }
                }

                shards.Add(new TopologyShard(primary ?? throw new InvalidOperationException($"{where} has no \"Primary\"."), replicas));
            }

            return shards;
        }
    }

    internal static void CheckShape(IReadOnlyList<TopologyShard> topology, int shards, int replicasPerShard)
    {
        if (topology.Count != shards || topology.Any(shard => shard.Replicas.Count != replicasPerShard))
        {
            throw new InvalidOperationException(
                $"{TestClusterDiscovery.EnvironmentVariableName} has {topology.Count} shard(s) with {string.Join("/", topology.Select(shard => shard.Replicas.Count))} replica(s), " +
                $"but a cluster of {shards} shard(s) with {replicasPerShard} replica(s) each was asked for. Give a topology of that shape, or ask for the shape it has.");
        }
    }

    private static string ConnectionString(JsonElement value, string where)
    {
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            throw new InvalidOperationException($"{where} must be a non-empty connection string.");
        }

        var connectionString = value.GetString()!;
        try
        {
            _ = new MySqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            throw new InvalidOperationException($"{where} is not a valid MySQL connection string.");
        }

        return connectionString;
    }

    private static async Task<ClusterServer> ConnectAsync(string connectionString, CancellationToken ct)
    {
        var server = await TestServerLocator.ConnectAsync(connectionString, TestServerSource.EnvironmentVariable, ct).ConfigureAwait(false);
        return new ClusterServer(server.ConnectionString, server.Description.Contains("MariaDB", StringComparison.OrdinalIgnoreCase), server.Description);
    }
}
