using System.Diagnostics;
using MySqlConnector;
using RideBooking.Data.Testing.Internal;

namespace RideBooking.Data.Testing;

/// <summary>
/// A fresh, uniquely named database with the RideBooking.Data schema on every primary of a sharded,
/// replicated set of servers, replicated to every replica and dropped on dispose.
/// </summary>
/// <remarks>
/// <para>
/// The servers of a shape (shards, replicas per shard) are found or started once per process and shared by
/// every cluster of that shape. They come from the <c>RIDEBOOKING_TOPOLOGY</c> environment variable when it is
/// set (a JSON array with one <c>{"Primary":"...","Replicas":["..."]}</c> object per shard: server connection
/// strings whose user may create databases, replicas already replicating from their primary), or else are
/// started from a local <c>mariadbd</c>/<c>mysqld</c> binary: one process per server, in temporary folders, on
/// free ports of 127.0.0.1, removed when the process exits (even when it crashes). Each replica replicates
/// from its primary by GTID as a dedicated replication user.
/// </para>
/// <para>
/// Connection strings name the least-privileged application account of the repository's
/// <c>schema/grants/02_application_user.sql</c> unless another <see cref="RideBookingTestAccount"/> is asked for; the schema is
/// applied by the migration account of <c>01_migration_user.sql</c>. The accounts are created on the primaries, reach the
/// replicas through replication, and are dropped with the database.
/// </para>
/// <para>
/// Tests that stop or delay replication change servers other tests share: run them one at a time, and
/// restore replication in a <c>finally</c>.
/// </para>
/// </remarks>
public sealed class RideBookingTestCluster : IAsyncDisposable
{
    private static readonly TimeSpan ReplicationTimeout = TimeSpan.FromSeconds(60);

    private readonly ClusterServers _servers;
    private readonly TestCredentials _credentials;

    private RideBookingTestCluster(ClusterServers servers, string databaseName, TestCredentials credentials)
    {
        _servers = servers;
        _credentials = credentials;
        DatabaseName = databaseName;
        Shards = ShardsFor(RideBookingTestAccount.Application);
        Description = $"{servers.Shards.Count} shard(s) x {servers.Shards[0].Replicas.Count} replica(s), from {servers.Source}: " +
            string.Join("; ", servers.Shards.Select((shard, i) =>
                $"shard {i} primary {shard.Primary.Description}" + string.Concat(shard.Replicas.Select(replica => $", replica {replica.Description}"))));
    }

    /// <summary>
    /// Gets the shards, with connection strings of the application account (<see cref="RideBookingTestAccount.Application"/>):
    /// physical shard <c>i</c> is <c>Shards[i]</c>.
    /// </summary>
    public IReadOnlyList<RideBookingTestShard> Shards { get; }

    /// <summary>Gets the name of this cluster's database (unique per call, the same on every server).</summary>
    public string DatabaseName { get; }

    /// <summary>Gets the versions and endpoints of the servers, without credentials.</summary>
    public string Description { get; }

    /// <summary>Gets how long finding or starting the shared servers took (zero once they are running).</summary>
    internal TimeSpan ServerStartTime => _servers.StartTime;

    /// <summary>
    /// Creates a database with the schema applied on every primary of a cluster of the given shape, starting its
    /// servers first if needed, and waits until every replica has it.
    /// </summary>
    /// <param name="shards">The number of shards, 1 to 64.</param>
    /// <param name="replicasPerShard">The number of replicas of each shard's primary, 0 to 8.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The cluster; dispose it to drop its database.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A count is out of range.</exception>
    /// <exception cref="InvalidOperationException">
    /// No servers could be found or started (the message says how to provide them), or <c>RIDEBOOKING_TOPOLOGY</c>
    /// is malformed or of another shape.
    /// </exception>
    public static async Task<RideBookingTestCluster> CreateAsync(int shards, int replicasPerShard, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shards, 64);
        ArgumentOutOfRangeException.ThrowIfNegative(replicasPerShard);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(replicasPerShard, 8);

        var servers = await TestClusterLocator.Shared.GetAsync(shards, replicasPerShard, ct).ConfigureAwait(false);
        var cluster = new RideBookingTestCluster(servers, Sql.NewDatabaseName(), TestCredentials.New());
        try
        {
            // Accounts and grants are created on the primaries; the replicas receive them through replication.
            await Task.WhenAll(servers.Shards.Select(shard =>
                TestAccounts.CreateDatabaseAsync(shard.Primary.ConnectionString, cluster.DatabaseName, cluster._credentials, ct))).ConfigureAwait(false);
            await cluster.WaitForReplicationAsync(ct).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Points <paramref name="options"/> at this cluster: fills <see cref="RideBookingOptions.Shards"/> with the primaries
    /// and replicas of <see cref="Shards"/>, in order, and sets <see cref="RideBookingOptions.ConnectionString"/> to
    /// <see langword="null"/>.
    /// </summary>
    /// <param name="options">The options to change.</param>
    public void Configure(RideBookingOptions options) => Configure(options, RideBookingTestAccount.Application);

    /// <summary>
    /// Points <paramref name="options"/> at this cluster as one of its accounts: fills <see cref="RideBookingOptions.Shards"/>
    /// with the primaries and replicas of <see cref="ShardsFor"/>, in order, and sets
    /// <see cref="RideBookingOptions.ConnectionString"/> to <see langword="null"/>.
    /// </summary>
    /// <param name="options">The options to change.</param>
    /// <param name="account">The account to connect as (for example <see cref="RideBookingTestAccount.Resharding"/> to move logical shards).</param>
    public void Configure(RideBookingOptions options, RideBookingTestAccount account)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ConnectionString = null;
        options.Shards.Clear();
        foreach (var shard in ShardsFor(account))
        {
            var shardOptions = new ShardOptions { Primary = shard.Primary };
            foreach (var replica in shard.Replicas)
            {
                shardOptions.Replicas.Add(replica);
            }

            options.Shards.Add(shardOptions);
        }
    }

    /// <summary>Gets the shards with connection strings of one of the cluster's accounts (the same accounts on every server).</summary>
    /// <param name="account">The account.</param>
    /// <returns>Physical shard <c>i</c> at index <c>i</c>, its connection strings naming this cluster's database.</returns>
    public IReadOnlyList<RideBookingTestShard> ShardsFor(RideBookingTestAccount account) =>
        [.. _servers.Shards.Select(shard => new RideBookingTestShard(
            _credentials.On(shard.Primary.ConnectionString, DatabaseName).For(account),
            [.. shard.Replicas.Select(replica => _credentials.On(replica.ConnectionString, DatabaseName).For(account))]))];

    /// <summary>Stops a replica's replication; writes on its primary stop arriving until <see cref="StartReplicationAsync"/>.</summary>
    /// <param name="shard">The shard, an index into <see cref="Shards"/>.</param>
    /// <param name="replica">The replica, an index into the shard's <see cref="RideBookingTestShard.Replicas"/>.</param>
    /// <param name="sqlThreadOnly">
    /// <see langword="true"/> (the default) to stop only applying: the replica keeps receiving its primary's binary log, so it
    /// knows how far behind it is; <see langword="false"/> to stop receiving as well.
    /// </param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>A task that completes when replication has stopped.</returns>
    public Task StopReplicationAsync(int shard, int replica, bool sqlThreadOnly = true, CancellationToken ct = default)
    {
        var server = Replica(shard, replica);
        return Sql.ExecuteAsync(server.ConnectionString, [Replication.Stop(server.IsMariaDb, sqlThreadOnly)], ct);
    }

    /// <summary>Starts a replica's replication again (both threads); it then catches up with its primary.</summary>
    /// <param name="shard">The shard, an index into <see cref="Shards"/>.</param>
    /// <param name="replica">The replica, an index into the shard's <see cref="RideBookingTestShard.Replicas"/>.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>A task that completes when replication has been started.</returns>
    public Task StartReplicationAsync(int shard, int replica, CancellationToken ct = default)
    {
        var server = Replica(shard, replica);
        return Sql.ExecuteAsync(server.ConnectionString, [Replication.Start(server.IsMariaDb)], ct);
    }

    /// <summary>
    /// Makes a replica apply each transaction only once it is <paramref name="delay"/> old on its primary
    /// (<c>MASTER_DELAY</c>/<c>SOURCE_DELAY</c>). Replication is stopped, changed and started again.
    /// </summary>
    /// <param name="shard">The shard, an index into <see cref="Shards"/>.</param>
    /// <param name="replica">The replica, an index into the shard's <see cref="RideBookingTestShard.Replicas"/>.</param>
    /// <param name="delay">The delay, rounded up to whole seconds, at most one day; <see cref="TimeSpan.Zero"/> removes it.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>A task that completes when the replica runs with the new delay.</returns>
    public Task SetReplicationDelayAsync(int shard, int replica, TimeSpan delay, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(delay, TimeSpan.FromDays(1));
        var server = Replica(shard, replica);
        var seconds = (int)Math.Ceiling(delay.TotalSeconds);
        return Sql.ExecuteAsync(
            server.ConnectionString,
            [Replication.Stop(server.IsMariaDb, sqlThreadOnly: false), Replication.SetDelay(server.IsMariaDb, seconds), Replication.Start(server.IsMariaDb)],
            ct);
    }

    /// <summary>Waits until every replica has applied everything its primary had written when the call began.</summary>
    /// <param name="ct">Cancels the wait.</param>
    /// <returns>A task that completes when every replica has caught up.</returns>
    /// <exception cref="TimeoutException">A replica did not catch up within 60 seconds (is its replication stopped or delayed?).</exception>
    public Task WaitForReplicationAsync(CancellationToken ct = default) =>
        Task.WhenAll(_servers.Shards.Select(async (shard, s) =>
        {
            var position = (string?)await Sql.ScalarAsync(shard.Primary.ConnectionString, Replication.PrimaryPosition(shard.Primary.IsMariaDb), ct).ConfigureAwait(false) ?? string.Empty;
            await Task.WhenAll(shard.Replicas.Select((replica, r) => WaitForAsync(replica, position, s, r, ct))).ConfigureAwait(false);
        }));

    /// <summary>Drops the database on every primary; the drop replicates to the replicas.</summary>
    /// <returns>A task that completes when the database is gone from the primaries.</returns>
    public async ValueTask DisposeAsync()
    {
        foreach (var account in Enum.GetValues<RideBookingTestAccount>())
        {
            foreach (var connectionString in ShardsFor(account).SelectMany(shard => shard.Replicas.Prepend(shard.Primary)))
            {
                using var connection = new MySqlConnection(connectionString);
                MySqlConnection.ClearPool(connection);
            }
        }

        await Task.WhenAll(_servers.Shards.Select(async shard =>
        {
            await Sql.DropDatabaseAsync(shard.Primary.ConnectionString, DatabaseName, CancellationToken.None).ConfigureAwait(false);
            await TestAccounts.DropAccountsAsync(shard.Primary.ConnectionString, _credentials.Names, CancellationToken.None).ConfigureAwait(false);
        })).ConfigureAwait(false);
    }

    private static async Task WaitForAsync(ClusterServer replica, string position, int shard, int index, CancellationToken ct)
    {
        // Waits of a second at a time, so that cancellation is noticed between them.
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var result = await Sql.ScalarAsync(replica.ConnectionString, Replication.WaitFor(replica.IsMariaDb), ct, ("@position", position), ("@timeout", 1)).ConfigureAwait(false);
            if (result is not null && Convert.ToInt64(result, System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                return;
            }

            if (stopwatch.Elapsed > ReplicationTimeout)
            {
                throw new TimeoutException($"Replica {index} of shard {shard} ({Sql.Endpoint(replica.ConnectionString)}) has not applied everything of its primary after {ReplicationTimeout.TotalSeconds:0} s; is its replication stopped or delayed?");
            }

            ct.ThrowIfCancellationRequested();
        }
    }

    private ClusterServer Replica(int shard, int replica)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shard, _servers.Shards.Count);
        var replicas = _servers.Shards[shard].Replicas;
        ArgumentOutOfRangeException.ThrowIfNegative(replica);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(replica, replicas.Count);
        return replicas[replica];
    }
}
