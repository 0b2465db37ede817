using Microsoft.Extensions.Options;
using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>
/// The one place that opens connections: a pool per server of the topology (the primary and the replicas of every
/// physical shard). <see cref="RideBookingOptions.ConnectionString"/> alone is one shard without replicas.
/// </summary>
internal sealed class RideBookingDataSource : IAsyncDisposable, IDisposable
{
    public RideBookingDataSource(IOptions<RideBookingOptions> options)
    {
        var value = options.Value;
        if (value.Shards.Count == 0)
        {
            Shards = [new PhysicalShard(0, value.ConnectionString ?? throw new InvalidOperationException("RideBookingOptions.ConnectionString or Shards must be set."), [])];
        }
        else
        {
            Shards = [.. value.Shards.Select((shard, index) => new PhysicalShard(
                index,
                shard.Primary ?? throw new InvalidOperationException($"RideBookingOptions.Shards[{index}].Primary is not set."),
                shard.Replicas))];
        }

        HasReplicas = Shards.Any(shard => shard.Replicas.Length > 0);
    }

    public RideBookingDataSource(string connectionString)
    {
        Shards = [new PhysicalShard(0, connectionString, [])];
    }

    /// <summary>Gets the physical shards; shard <c>i</c> is <c>RideBookingOptions.Shards[i]</c>.</summary>
    public PhysicalShard[] Shards { get; }

    /// <summary>Gets a value indicating whether any shard has replicas.</summary>
    public bool HasReplicas { get; }

    /// <summary>A connection to the primary of the first shard (the only one in the one-shard topology).</summary>
    public ValueTask<MySqlConnection> OpenConnectionAsync(CancellationToken ct) => Shards[0].Primary.OpenAsync(ct);

    public async ValueTask DisposeAsync()
    {
        foreach (var shard in Shards)
        {
            await shard.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        foreach (var shard in Shards)
        {
            shard.Dispose();
        }
    }
}

/// <summary>One physical shard: its primary and its replicas.</summary>
internal sealed class PhysicalShard : IAsyncDisposable, IDisposable
{
    public PhysicalShard(int index, string primary, IEnumerable<string> replicas)
    {
        Index = index;
        Primary = new ServerPool(primary, $"shard {index} primary");
        Replicas = [.. replicas.Select((replica, i) => new ReplicaNode(index, i, new ServerPool(replica, $"shard {index} replica {i}")))];
    }

    public int Index { get; }

    public ServerPool Primary { get; }

    public ReplicaNode[] Replicas { get; }

    /// <summary>Gets the GTID positions of the writes this process made on this shard (tracked only when it has replicas).</summary>
    public GtidPosition Written { get; } = new();

    private int _nextReplica;

    /// <summary>A healthy replica, round robin; <see langword="null"/> when none is in rotation.</summary>
    public ReplicaNode? PickReplica()
    {
        var replicas = Replicas;
        if (replicas.Length == 0)
        {
            return null;
        }

        var start = (int)((uint)Interlocked.Increment(ref _nextReplica) % (uint)replicas.Length);
        for (var i = 0; i < replicas.Length; i++)
        {
            var candidate = replicas[(start + i) % replicas.Length];
            if (candidate.Healthy)
            {
                return candidate;
            }
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await Primary.DisposeAsync().ConfigureAwait(false);
        foreach (var replica in Replicas)
        {
            await replica.Pool.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        Primary.Dispose();
        foreach (var replica in Replicas)
        {
            replica.Pool.Dispose();
        }
    }
}

/// <summary>A replica of a shard and what the lag watch last saw of it.</summary>
internal sealed class ReplicaNode(int shard, int index, ServerPool pool)
{
    private volatile bool _healthy;

    public int Shard { get; } = shard;

    public int Index { get; } = index;

    public ServerPool Pool { get; } = pool;

    /// <summary>Gets or sets a value indicating whether the replica is in rotation: replicating, and lagging less than the limit.</summary>
    public bool Healthy { get => _healthy; set => _healthy = value; }

    /// <summary>Gets or sets the lag last measured, in seconds; <see langword="null"/> when replication is stopped or the replica did not answer.</summary>
    public double? LagSeconds { get; set; }

    /// <summary>Gets or sets the newest GTID position this replica was seen to have applied (by a read's wait).</summary>
    public string? ConfirmedPosition { get => Volatile.Read(ref _confirmed); set => Volatile.Write(ref _confirmed, value); }

    private string? _confirmed;

    /// <summary>Gets or sets what the lag watch last saw: "healthy", "lagging", "replication is stopped", ... ("unchecked" before the first check).</summary>
    public string State { get; set; } = "unchecked";
}

/// <summary>
/// The connection pool of one server. Its connections are not reset on checkout and are set to READ COMMITTED once,
/// when opened; the first connection also tells whether the server is MariaDB (for the GTID functions).
/// </summary>
internal sealed class ServerPool : IAsyncDisposable, IDisposable
{
    private readonly MySqlDataSource _dataSource;
    private readonly Lazy<MySqlDataSource> _unpooled;
    private volatile int _flavor; // 0 unknown, 1 MariaDB, 2 MySQL
    private volatile bool _galera;

    /// <summary>The Galera replication switch; no row on servers without Galera support.</summary>
    private const string GaleraProbe = "SHOW GLOBAL VARIABLES LIKE 'wsrep\\_on'";

    public ServerPool(string connectionString, string name)
    {
        Name = name;
        var builder = new MySqlConnectionStringBuilder(connectionString)
        {
            // The library's batches keep intermediate results in session variables (@rb_*).
            AllowUserVariables = true,
            // Times are stored in UTC; read them back as UTC.
            DateTimeKind = MySqlDateTimeKind.Utc,
            // Taking a connection from this pool costs no round trip: the library leaves no session
            // state that matters behind (every transaction ends in COMMIT or ROLLBACK, and the @rb_*
            // variables are assigned before they are read), so the reset on checkout is not needed.
            ConnectionReset = false,
        };
        ConnectionString = builder.ConnectionString;
        _dataSource = new MySqlDataSourceBuilder(builder.ConnectionString)
            .UseConnectionOpenedCallback(SetSessionDefaultsAsync)
            // The pool's name is MySqlConnector's pool.name metric tag (and the program_name connection attribute): without
            // it, that tag is the connection string (less the password, but with user, server, database and TLS files).
            .UseName("RideBooking.Data " + name)
            .Build();
        // Retries after a connection failure take a new physical connection: the pool's others may be stale as well.
        var unpooled = new MySqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false }.ConnectionString;
        _unpooled = new Lazy<MySqlDataSource>(() => new MySqlDataSourceBuilder(unpooled).UseConnectionOpenedCallback(SetSessionDefaultsAsync).Build());
    }

    /// <summary>Gets the connection string of this server (never logged or put in a message).</summary>
    internal string ConnectionString { get; }

    /// <summary>Gets a name for errors and logs ("shard 2 replica 0"): never the connection string.</summary>
    public string Name { get; }

    /// <summary>Gets a value indicating whether the server is MariaDB (known once a connection was opened).</summary>
    public bool IsMariaDb => _flavor == 1;

    /// <summary>
    /// Gets a value indicating whether a connection of this pool reached a Galera node (wsrep replication on). Asked once per
    /// physical connection, when it is opened, so it is known before the connection runs anything of the library; once
    /// seen, it stays set for the pool (a failover pool can reach several nodes). A Galera node is sent every statement,
    /// COMMIT included, as a command of its own, never inside a batch: after a certification abort, MariaDB can answer OK
    /// to every statement of an <c>INSERT ...; COMMIT</c> batch although nothing was stored, and a transaction aborted by
    /// a replicated write set in the middle of a batch is answered OK while the batch's remaining statements run (and
    /// commit) in autocommit mode.
    /// </summary>
    public bool IsGalera => _galera;

    /// <summary>
    /// Gets or sets a value indicating whether units send every statement as a command of its own on this server although
    /// it is not a Galera node (the benchmarks measure what the extra round trips cost on a single server; tests run the
    /// Galera form of every unit on a single server).
    /// </summary>
    internal bool AlwaysOneStatementPerCommand { get; set; }

    /// <summary>Gets a value indicating whether units on this server send every statement, COMMIT included, as a command of its own (see <see cref="IsGalera"/>).</summary>
    public bool OneStatementPerCommand => _galera || AlwaysOneStatementPerCommand;

    /// <summary>
    /// Every transaction of the library runs at READ COMMITTED: set once per physical connection, so
    /// that starting a transaction needs no statement of its own (connections are not reset in the pool).
    /// The same round trip asks whether the server is a Galera node (see <see cref="IsGalera"/>).
    /// </summary>
    private async ValueTask SetSessionDefaultsAsync(MySqlConnectionOpenedContext context, CancellationToken ct)
    {
        if ((context.Conditions & MySqlConnectionOpenedConditions.New) != 0)
        {
            _flavor = context.Connection.ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase) ? 1 : 2;
            var command = new MySqlCommand("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED;\n" + GaleraProbe, context.Connection);
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    // A server without Galera support (MySQL, or MariaDB built without it) has no such variable: no row.
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        if (string.Equals(reader.GetString(1), "ON", StringComparison.OrdinalIgnoreCase))
                        {
                            _galera = true;
                        }
                    }
                }
            }
        }
    }

    /// <summary>A connection from the pool.</summary>
    public ValueTask<MySqlConnection> OpenAsync(CancellationToken ct) => OpenAsync(_dataSource, ct);

    /// <summary>
    /// A new physical connection outside the pool, for a retry after a connection failure: after a server restart, or once
    /// <c>wait_timeout</c> closed idle sessions, every pooled connection is stale, and the next one would fail as well.
    /// </summary>
    public ValueTask<MySqlConnection> OpenFreshAsync(CancellationToken ct) => OpenAsync(_unpooled.Value, ct);

    /// <summary>
    /// Makes sure the physical session of <paramref name="connection"/> is never used again: after a failed ROLLBACK its
    /// transaction may still be open, and the next <c>START TRANSACTION</c> on it would commit that transaction. The session
    /// ends itself (the server rolls back what it held), and a ping then marks it broken, so the pool destroys it on return
    /// instead of keeping it. (<see cref="MySqlConnection.ClearPoolAsync(MySqlConnection, CancellationToken)"/> does not reach
    /// the pool of a <see cref="MySqlDataSource"/>.)
    /// </summary>
    public async Task DiscardAsync(MySqlConnection connection)
    {
        if (connection.State != System.Data.ConnectionState.Open)
        {
            // The driver already marked the session broken: it is destroyed, not pooled, and the server rolled it back.
            return;
        }

        try
        {
            var kill = new MySqlCommand("KILL CONNECTION_ID()", connection);
            await using (kill.ConfigureAwait(false))
            {
                await kill.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (InfrastructureErrors.IsDriverFailure(ex) || ex is InvalidOperationException)
        {
            // The server ends the session while answering: the error is the expected outcome.
        }

        if (await connection.PingAsync(CancellationToken.None).ConfigureAwait(false))
        {
            // Still alive (the session could not end itself): end it from a new connection. The ping proved the session is
            // on this server instance, so its id is not another session's.
            try
            {
                var other = await OpenFreshAsync(CancellationToken.None).ConfigureAwait(false);
                await using (other.ConfigureAwait(false))
                {
                    var kill = new MySqlCommand("KILL CONNECTION @Id", other);
                    kill.Parameters.AddWithValue("@Id", connection.ServerThread);
                    await using (kill.ConfigureAwait(false))
                    {
                        await kill.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                }
            }
            catch (Exception ex) when (InfrastructureErrors.IsDriverFailure(ex) || ex is InvalidOperationException)
            {
                // The server is unreachable: a session it cannot serve holds no transaction anyone can commit.
            }

            await connection.PingAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async ValueTask<MySqlConnection> OpenAsync(MySqlDataSource source, CancellationToken ct)
    {
        var connection = source.CreateConnection();
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync().ConfigureAwait(false);
        if (_unpooled.IsValueCreated)
        {
            await _unpooled.Value.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _dataSource.Dispose();
        if (_unpooled.IsValueCreated)
        {
            _unpooled.Value.Dispose();
        }
    }
}
