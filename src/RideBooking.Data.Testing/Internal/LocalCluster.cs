using System.Diagnostics;
using System.Security.Cryptography;

namespace RideBooking.Data.Testing.Internal;

/// <summary>One server of a test cluster.</summary>
/// <param name="ConnectionString">A connection string without a database, whose user may create databases and manage replication.</param>
/// <param name="IsMariaDb">MariaDB rather than MySQL: the replication statements differ.</param>
/// <param name="Description">Version and endpoint, without credentials.</param>
internal sealed record ClusterServer(string ConnectionString, bool IsMariaDb, string Description);

/// <summary>A primary and the replicas that replicate from it.</summary>
internal sealed record ClusterShard(ClusterServer Primary, IReadOnlyList<ClusterServer> Replicas);

/// <summary>The servers of a cluster shape, shared by every cluster of that shape in the process.</summary>
/// <param name="Shards">Physical shard i is Shards[i].</param>
/// <param name="Source">Where the servers came from.</param>
/// <param name="StartTime">How long finding or starting them took.</param>
internal sealed record ClusterServers(IReadOnlyList<ClusterShard> Shards, TestServerSource Source, TimeSpan StartTime);

/// <summary>
/// Starts a primary and its replicas per shard as throwaway local servers (see <see cref="LocalServer"/>): one
/// data folder is initialized and copied for the others, the servers start in parallel, and each replica
/// replicates from its primary by GTID as the dedicated replication user.
/// </summary>
internal static class LocalCluster
{
    /// <summary>Small enough that 4 primaries and 4 replicas fit comfortably on a laptop or CI runner.</summary>
    private static LocalServerSettings Settings(IReadOnlyList<string> roleArguments) =>
        new(MaxConnections: 100, BufferPoolSize: "64M", RedoLogSize: "16M", ["--performance-schema=OFF", .. roleArguments]);

    public static async Task<ClusterServers> StartAsync(string binary, int shards, int replicasPerShard, CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        var flavor = await LocalServer.DetectAsync(binary, ct).ConfigureAwait(false);
        var perShard = 1 + replicasPerShard;
        var folders = new string[shards * perShard];
        for (var i = 0; i < folders.Length; i++)
        {
            folders[i] = await LocalServer.NewFolderAsync(ct).ConfigureAwait(false);
        }

        // Server ids are 1-based positions in the cluster; index i is shard i / perShard, primary when i % perShard == 0.
        var settings = folders.Select((_, i) => Settings(i % perShard == 0
            ? Replication.PrimaryArguments(flavor.IsMariaDb, i + 1)
            : Replication.ReplicaArguments(flavor.IsMariaDb, i + 1))).ToArray();
        var template = LocalServer.DataFolder(folders[0]);
        await LocalServer.InitializeAsync(flavor, template, settings[0], ct).ConfigureAwait(false);
        await Task.WhenAll(folders.Skip(1).Select(folder => Task.Run(() => LocalServer.CopyDataFolder(template, LocalServer.DataFolder(folder)), ct))).ConfigureAwait(false);
        var servers = await Task.WhenAll(folders.Select((folder, i) => LocalServer.LaunchAsync(flavor, folder, settings[i], ct))).ConfigureAwait(false);

        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var result = await Task.WhenAll(Enumerable.Range(0, shards).Select(async shard =>
        {
            var primary = servers[shard * perShard];
            await Sql.ExecuteAsync(primary.ConnectionString, Replication.CreateUser(password), ct).ConfigureAwait(false);
            var replicas = servers.Skip((shard * perShard) + 1).Take(replicasPerShard).ToList();
            foreach (var replica in replicas)
            {
                await Sql.ExecuteAsync(replica.ConnectionString, [Replication.ChangeSource(flavor.IsMariaDb, primary.Port, password), Replication.Start(flavor.IsMariaDb)], ct).ConfigureAwait(false);
            }

            return new ClusterShard(ToServer(primary), [.. replicas.Select(ToServer)]);
        })).ConfigureAwait(false);
        return new ClusterServers(result, TestServerSource.LocalBinary, stopwatch.Elapsed);

        ClusterServer ToServer(LocalServerInstance server) => new(server.ConnectionString, flavor.IsMariaDb, server.Description);
    }
}
