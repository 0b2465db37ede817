using Dapper;
using MySqlConnector;
using RideBooking.Data.Testing;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// A 4-shard cluster with one replica per shard and a fresh database, for tests of sharding and replica reads.
/// The servers are shared by every fixture of the test run; each fixture has its own database.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const int ShardCount = 4;
    public const int ReplicasPerShard = 1;

    private RideBookingTestCluster? _cluster;

    public RideBookingTestCluster Cluster => _cluster ?? throw new InvalidOperationException("Not initialized.");

    /// <summary>How long the fixture took to get its cluster, including starting the servers if it was first.</summary>
    public TimeSpan CreateTime { get; private set; }

    public async Task InitializeAsync()
    {
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        _cluster = await RideBookingTestCluster.CreateAsync(ShardCount, ReplicasPerShard);
        CreateTime = stopwatch.Elapsed;
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    public static async Task<MySqlConnection> OpenAsync(string connectionString)
    {
        var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static long _nextId = DateTime.UtcNow.Ticks;

    /// <summary>Inserts a user with the given name straight into a shard's primary and returns its id.</summary>
    public async Task<long> InsertUserAsync(int shard, string name)
    {
        var id = Interlocked.Increment(ref _nextId);
        await using var connection = await OpenAsync(Cluster.Shards[shard].Primary);
        await connection.ExecuteAsync(
            "INSERT INTO users (id, name, phone, created_at) VALUES (@id, @name, @phone, UTC_TIMESTAMP(6))",
            new { id, name, phone = "+1" + (id % 10_000_000_000_000).ToString("D13", System.Globalization.CultureInfo.InvariantCulture) });
        return id;
    }

    /// <summary>Whether the user with this id is on the given server (a primary or replica connection string).</summary>
    public static async Task<bool> HasUserAsync(string connectionString, long id)
    {
        await using var connection = await OpenAsync(connectionString);
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users WHERE id = @id", new { id }) == 1;
    }
}

/// <summary>
/// Tests that stop, delay or otherwise change replication of the shared cluster servers: they run one at a time,
/// after the parallel tests, and each restores replication in a <c>finally</c>. Add such tests with
/// <c>[Collection(ReplicationTestGroup.Name)]</c>; they get the collection's <see cref="ClusterFixture"/>.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReplicationTestGroup : ICollectionFixture<ClusterFixture>
{
    public const string Name = "Replication";
}
