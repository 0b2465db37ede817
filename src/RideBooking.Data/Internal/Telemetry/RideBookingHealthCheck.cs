using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>
/// The library's health check: every primary answers and has the current schema (every shipped script recorded in
/// <c>schema_history</c>, and the UNIQUE keys the invariants rest on present), every replica answers, replicates and lags
/// at most <see cref="RideBookingOptions.MaxReplicaLag"/>. Each server is probed on a connection of its own, outside the
/// pools, with a short timeout, all at once. A primary or schema problem is the registration's failure status; a replica
/// problem is at most <see cref="HealthStatus.Degraded"/> (its reads go to the primary). Servers are named
/// ("shard 1 replica 0"), never by their connection string.
/// </summary>
internal sealed class RideBookingHealthCheck(RideBookingDataSource dataSource, IOptions<RideBookingOptions> options, TimeSpan timeout) : IHealthCheck
{
    /// <summary>The UNIQUE keys whose absence breaks an invariant silently (an older table kept by <c>IF NOT EXISTS</c>), by columns, not by name.</summary>
    internal static readonly (string Table, string Columns, string Rule)[] RequiredUniqueKeys =
    [
        ("rides", "active_user_id", "one active ride per user"),
        ("rides", "active_driver_id", "one active ride per driver"),
        ("payments", "transaction_id", "one payment per provider transaction id"),
        ("payments", "active_ride_id", "one pending or succeeded payment per ride"),
        ("users", "phone", "one user per phone"),
    ];

    private const string HistoryExists = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'schema_history'";

    private const string UniqueKeys = """
        SELECT table_name, index_name, GROUP_CONCAT(column_name ORDER BY seq_in_index SEPARATOR ',')
        FROM information_schema.statistics
        WHERE table_schema = DATABASE() AND non_unique = 0
        GROUP BY table_name, index_name
        """;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failureStatus = context.Registration?.FailureStatus ?? HealthStatus.Unhealthy;
        // A replica problem never weighs more than Degraded: reads fall back to the primary.
        var replicaStatus = (HealthStatus)Math.Max((int)failureStatus, (int)HealthStatus.Degraded);

        var probes = new List<Task<Probe>>();
        foreach (var shard in dataSource.Shards)
        {
            probes.Add(ProbePrimaryAsync(shard, failureStatus, cancellationToken));
            probes.AddRange(shard.Replicas.Select(replica => ProbeReplicaAsync(replica, replicaStatus, cancellationToken)));
        }

        var results = await Task.WhenAll(probes).ConfigureAwait(false);
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var probe in results)
        {
            foreach (var (key, value) in probe.Data)
            {
                data[key] = value;
            }
        }

        var problems = results.Where(p => p.Status != HealthStatus.Healthy).ToList();
        if (problems.Count == 0)
        {
            var replicas = dataSource.Shards.Sum(s => s.Replicas.Length);
            return HealthCheckResult.Healthy(
                string.Create(CultureInfo.InvariantCulture, $"{dataSource.Shards.Length} primary(ies) with the current schema, and {replicas} replica(s) replicating within the lag limit."),
                data);
        }

        var status = problems.Min(p => p.Status);
        return new HealthCheckResult(status, string.Join("; ", problems.SelectMany(p => p.Problems)), exception: null, data);
    }

    private async Task<Probe> ProbePrimaryAsync(PhysicalShard shard, HealthStatus failureStatus, CancellationToken cancellationToken)
    {
        var name = shard.Primary.Name;
        var probe = new Probe(name);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            var connection = await OpenAsync(shard.Primary, deadline.Token).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                probe.Data[name] = "reachable";
                var schemaProblems = await CheckSchemaAsync(connection, deadline.Token).ConfigureAwait(false);
                var schemaKey = $"shard {shard.Index} schema";
                if (schemaProblems.Count == 0)
                {
                    probe.Data[schemaKey] = "current";
                }
                else
                {
                    probe.Data[schemaKey] = string.Join("; ", schemaProblems);
                    probe.Fail(failureStatus, schemaProblems.Select(p => $"shard {shard.Index} schema: {p}"));
                }
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsProbeFailure(ex))
        {
            var state = DidNotAnswer(ex);
            probe.Data[name] = state;
            probe.Fail(failureStatus, [$"{name} {state}"]);
        }

        return probe;
    }

    private async Task<Probe> ProbeReplicaAsync(ReplicaNode replica, HealthStatus replicaStatus, CancellationToken cancellationToken)
    {
        var name = replica.Pool.Name;
        var probe = new Probe(name);
        string state;
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            var connection = await OpenAsync(replica.Pool, deadline.Token).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var command = new MySqlCommand("SHOW REPLICA STATUS", connection);
                await using (command.ConfigureAwait(false))
                {
                    var reader = await command.ExecuteReaderAsync(deadline.Token).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        state = await ReplicationStateAsync(reader, probe, deadline.Token).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsProbeFailure(ex))
        {
            state = DidNotAnswer(ex);
        }

        probe.Data[name] = state;
        if (!state.StartsWith("replicating", StringComparison.Ordinal))
        {
            probe.Fail(replicaStatus, [$"{name} {state}"]);
        }

        return probe;
    }

    private async Task<string> ReplicationStateAsync(MySqlDataReader reader, Probe probe, CancellationToken cancellationToken)
    {
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return "is not replicating (replication is not configured)";
        }

        var io = ReplicaMonitor.Text(reader, "Slave_IO_Running", "Replica_IO_Running");
        var sql = ReplicaMonitor.Text(reader, "Slave_SQL_Running", "Replica_SQL_Running");
        if (!string.Equals(io, "Yes", StringComparison.OrdinalIgnoreCase) || !string.Equals(sql, "Yes", StringComparison.OrdinalIgnoreCase))
        {
            return "is not replicating (replication is stopped)";
        }

        var seconds = ReplicaMonitor.Text(reader, "Seconds_Behind_Master", "Seconds_Behind_Source");
        if (!double.TryParse(seconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var lag))
        {
            return "is replicating with an unknown lag";
        }

        probe.Data[$"{probe.Name} lag seconds"] = lag;
        var limit = options.Value.MaxReplicaLag.TotalSeconds;
        return lag <= limit
            ? string.Create(CultureInfo.InvariantCulture, $"replicating, {lag} s behind")
            : string.Create(CultureInfo.InvariantCulture, $"lags {lag} s behind its primary (limit {limit} s)");
    }

    /// <summary>Every shipped script recorded, and every required UNIQUE key present; the problems found, none when current.</summary>
    private static async Task<List<string>> CheckSchemaAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var exists = new MySqlCommand(HistoryExists, connection);
        await using (exists.ConfigureAwait(false))
        {
            if (Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) == 0)
            {
                problems.Add("schema_history is missing (the schema was never applied by RideBookingSchema.ApplyAsync)");
            }
        }

        if (problems.Count == 0)
        {
            var recorded = new HashSet<string>(StringComparer.Ordinal);
            var history = new MySqlCommand(RideBookingSchema.AppliedScripts, connection);
            await using (history.ConfigureAwait(false))
            {
                var reader = await history.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        recorded.Add(reader.GetString(0));
                    }
                }
            }

            var missing = RideBookingSchema.Scripts.Select(s => s.Key).Where(s => !recorded.Contains(s)).ToList();
            if (missing.Count > 0)
            {
                problems.Add($"scripts not applied: {string.Join(", ", missing)}");
            }
        }

        var keys = new HashSet<(string Table, string Columns)>();
        var unique = new MySqlCommand(UniqueKeys, connection);
        await using (unique.ConfigureAwait(false))
        {
            var reader = await unique.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    keys.Add((reader.GetString(0).ToUpperInvariant(), reader.GetString(2).ToUpperInvariant()));
                }
            }
        }

        foreach (var (table, columns, rule) in RequiredUniqueKeys)
        {
            if (!keys.Contains((table.ToUpperInvariant(), columns.ToUpperInvariant())))
            {
                problems.Add($"no UNIQUE index on {table}({columns}): the database no longer enforces {rule}");
            }
        }

        return problems;
    }

    /// <summary>A connection of its own, outside the pool, so that the probe tests the server rather than a pooled session.</summary>
    private async Task<MySqlConnection> OpenAsync(ServerPool pool, CancellationToken cancellationToken)
    {
        var seconds = (uint)Math.Max(1, Math.Ceiling(timeout.TotalSeconds));
        var builder = new MySqlConnectionStringBuilder(pool.ConnectionString)
        {
            Pooling = false,
            ConnectionTimeout = seconds,
            DefaultCommandTimeout = seconds,
        };
        var connection = new MySqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static bool IsProbeFailure(Exception ex) =>
        ex is MySqlException or OperationCanceledException or TimeoutException || TransactionRunner.IsConnectionFailure(ex);

    private string DidNotAnswer(Exception ex) => ex is OperationCanceledException or TimeoutException
        ? string.Create(CultureInfo.InvariantCulture, $"did not answer within {timeout.TotalSeconds} s")
        : $"did not answer ({ShardReader.Describe(ex)})";

    /// <summary>What one server's probe found.</summary>
    private sealed class Probe(string name)
    {
        public string Name { get; } = name;

        public HealthStatus Status { get; private set; } = HealthStatus.Healthy;

        public List<string> Problems { get; } = [];

        public Dictionary<string, object> Data { get; } = new(StringComparer.Ordinal);

        public void Fail(HealthStatus status, IEnumerable<string> problems)
        {
            Status = (HealthStatus)Math.Min((int)Status, (int)status);
            Problems.AddRange(problems);
        }
    }
}
