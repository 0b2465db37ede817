using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>A table whose rows belong to a logical shard: the column that names it and the primary key, in index order.</summary>
/// <param name="Name">The table.</param>
/// <param name="ShardColumn">The column holding the logical shard, indexed as <c>(ShardColumn, Key...)</c>.</param>
/// <param name="Key">The primary key's columns in the order of that index (unique together).</param>
internal sealed record ShardedTable(string Name, string ShardColumn, params string[] Key);

/// <summary>
/// Moves logical shards between physical shards; see <see cref="IShardMover"/> and "Resharding" in the README.
/// Steps: mark MOVING (catalog), wait for every process, copy, verify, switch to PLACED on the target (with the old
/// physical shard as <c>leftover_on</c>), wait again, delete the old copies, clear <c>leftover_on</c>. Every step can be
/// run again: a re-run picks up from the catalog's state.
/// </summary>
internal sealed partial class ShardMover(RideBookingDataSource dataSource, ShardResolver resolver, ShardPlacements placements, TimeProvider time, ILoggerFactory? loggerFactory = null) : IShardMover
{
    /// <summary>
    /// Every table with rows of a logical shard, parents before children (foreign keys): copied in this order, deleted in the
    /// reverse order. A table missing on the source (an older schema) is skipped. Adding a table is one line.
    /// </summary>
    internal static readonly ShardedTable[] Tables =
    [
        new("users", "logical_shard", "id"),
        new("drivers", "logical_shard", "id"),
        new("rides", "logical_shard", "id"),
        new("payments", "logical_shard", "id"),
        new("driver_earnings", "logical_shard", "driver_id"),
        new("driver_holds", "logical_shard", "driver_id"),
        new("cross_shard_decisions", "logical_shard", "id"),
        new("cross_shard_outbox", "logical_shard", "ride_id"),
        new("cross_shard_applied", "logical_shard", "driver_id", "ride_id"),
        new("phone_claims", "logical_shard", "phone"),
        new("transaction_claims", "logical_shard", "transaction_id"),
        new("idempotency_keys", "logical_shard", "operation", "scope_id", "idempotency_key"),
    ];

    private readonly ILogger _logger = (ILogger?)loggerFactory?.CreateLogger<ShardMover>() ?? NullLogger.Instance;

    /// <summary>Gets or sets the rows per copy or delete batch.</summary>
    internal int BatchSize { get; set; } = 500;

    /// <summary>Test seam: runs after each step ("marked", "copied", "verified", "switched", "deleted"); throwing stops the move there.</summary>
    internal Func<string, Task>? AfterStep { get; set; }

    public Task<ShardMoveResult> MoveAsync(int logicalShard, int targetPhysicalShard, CancellationToken cancellationToken = default) =>
        MoveManyAsync([logicalShard], targetPhysicalShard, cancellationToken);

    public async Task<ShardMoveResult> MoveManyAsync(IReadOnlyCollection<int> logicalShards, int targetPhysicalShard, CancellationToken cancellationToken = default)
    {
        try
        {
            return await MoveManyCoreAsync(logicalShards, targetPhysicalShard, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (InfrastructureErrors.IsDriverFailure(ex) && !cancellationToken.IsCancellationRequested)
        {
            // A move uses connections of its own: no raw driver exception reaches the caller (a re-run resumes the move).
            throw InfrastructureErrors.Translate("MoveShard", ex);
        }
    }

    private async Task<ShardMoveResult> MoveManyCoreAsync(IReadOnlyCollection<int> logicalShards, int targetPhysicalShard, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(logicalShards);
        ArgumentOutOfRangeException.ThrowIfNegative(targetPhysicalShard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(targetPhysicalShard, dataSource.Shards.Length);
        foreach (var logical in logicalShards)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(logical, nameof(logicalShards));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(logical, IdGenerator.LogicalShardCount, nameof(logicalShards));
        }

        if (dataSource.Shards.Length == 1)
        {
            throw new InvalidOperationException("Moving a logical shard needs at least two physical shards.");
        }

        if (!ReferenceEquals(resolver.Placements, placements))
        {
            throw new InvalidOperationException("A custom IShardMap is registered: it, not the shard catalog, says where logical shards are, so they cannot be moved by the library.");
        }

        var shards = logicalShards.Distinct().Order().ToArray();
        var stopwatch = Stopwatch.StartNew();
        var ct = cancellationToken;
        var columns = new ColumnCache();

        // 1. Mark MOVING (those not yet moving and not yet on the target).
        var moving = await MarkAsync(shards, targetPhysicalShard, ct).ConfigureAwait(false);
        await StepAsync("marked").ConfigureAwait(false);

        long copied = 0;
        if (moving.Count > 0)
        {
            // 2. Every process refuses writes to them from now on.
            await WaitForEveryProcessAsync(ct).ConfigureAwait(false);

            // 3. Copy, 4. verify.
            foreach (var (logical, source) in moving)
            {
                copied += await CopyAsync(columns, logical, source, targetPhysicalShard, ct).ConfigureAwait(false);
            }

            await StepAsync("copied").ConfigureAwait(false);
            foreach (var (logical, source) in moving)
            {
                await VerifyAsync(columns, logical, source, targetPhysicalShard, ct).ConfigureAwait(false);
            }

            await StepAsync("verified").ConfigureAwait(false);

            // 5. Switch: PLACED on the target, the source's copies are leftovers.
            await SwitchAsync(moving, targetPhysicalShard, ct).ConfigureAwait(false);
            await StepAsync("switched").ConfigureAwait(false);
        }

        // 6. Every process routes to the target (or still refuses) before the old copies go.
        var leftovers = await LeftoversAsync(shards, ct).ConfigureAwait(false);
        long deleted = 0;
        if (leftovers.Count > 0)
        {
            await WaitForEveryProcessAsync(ct).ConfigureAwait(false);

            // 7. Delete the old copies, then forget them.
            foreach (var (logical, leftoverOn) in leftovers)
            {
                deleted += await DeleteAsync(columns, logical, leftoverOn, ct).ConfigureAwait(false);
                await CatalogAsync(
                    "UPDATE shard_placements SET leftover_on = NULL, version = version + 1, updated_at = @Now WHERE logical_shard = @Logical AND leftover_on = @Leftover",
                    command => command.With("@Logical", logical).With("@Leftover", leftoverOn),
                    ct).ConfigureAwait(false);
            }

            await placements.RefreshAsync(ct).ConfigureAwait(false);
            await StepAsync("deleted").ConfigureAwait(false);
        }

        var result = new ShardMoveResult(shards, targetPhysicalShard, copied, deleted, stopwatch.Elapsed);
        LogMoved(_logger, shards.Length, targetPhysicalShard, copied, deleted, stopwatch.Elapsed.TotalMilliseconds);
        return result;
    }

    private async Task StepAsync(string step)
    {
        if (AfterStep is { } hook)
        {
            await hook(step).ConfigureAwait(false);
        }
    }

    /// <summary>Waits two refresh intervals (and a margin for a reload in flight), so that every process has reloaded the catalog.</summary>
    private async Task WaitForEveryProcessAsync(CancellationToken ct)
    {
        await placements.RefreshAsync(ct).ConfigureAwait(false);
        await Task.Delay((placements.Interval * 2) + TimeSpan.FromMilliseconds(50), time, ct).ConfigureAwait(false);
    }

    /// <summary>Marks the logical shards MOVING to the target; returns every one that is moving there now, with its source.</summary>
    private async Task<List<(int Logical, int Source)>> MarkAsync(int[] shards, int target, CancellationToken ct)
    {
        var connection = await dataSource.Shards[0].Primary.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var rows = new Dictionary<int, Placement>();
                var select = new MySqlCommand($"{ShardPlacements.Load} WHERE logical_shard IN ({string.Join(",", shards)}) FOR UPDATE", connection, transaction);
                await using (select.ConfigureAwait(false))
                {
                    var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        while (await reader.ReadAsync(ct).ConfigureAwait(false))
                        {
                            rows[reader.GetInt32(0)] = new Placement(reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetInt32(3), reader.GetInt64(4));
                        }
                    }
                }

                var moving = new List<(int, int)>();
                foreach (var logical in shards)
                {
                    rows.TryGetValue(logical, out var row);
                    if (row is { Moving: true })
                    {
                        if (row.MovingTo != target)
                        {
                            throw new InvalidOperationException($"Logical shard {logical} is moving to physical shard {row.MovingTo}: finish that move (call MoveAsync with that target) first.");
                        }

                        moving.Add((logical, row.Physical));
                        continue;
                    }

                    var current = row?.Physical ?? placements.BaseOf(logical);
                    if (current == target)
                    {
                        continue;
                    }

                    if (row?.LeftoverOn is { } leftover && leftover != current)
                    {
                        throw new InvalidOperationException($"Logical shard {logical} still has old copies on physical shard {leftover}: finish its last move (call MoveAsync with target {current}) first.");
                    }

                    var mark = new MySqlCommand(
                        """
                        INSERT INTO shard_placements (logical_shard, physical_shard, state, moving_to, leftover_on, version, updated_at)
                        VALUES (@Logical, @Source, 'MOVING', @Target, NULL, 1, @Now)
                        ON DUPLICATE KEY UPDATE state = 'MOVING', moving_to = @Target, version = version + 1, updated_at = @Now
                        """,
                        connection,
                        transaction);
                    await mark.With("@Logical", logical).With("@Source", current).With("@Target", target).With("@Now", time.GetUtcNow().UtcDateTime).ExecuteAsync(ct).ConfigureAwait(false);
                    moving.Add((logical, current));
                }

                await transaction.CommitAsync(ct).ConfigureAwait(false);
                return moving;
            }
        }
    }

    private async Task SwitchAsync(List<(int Logical, int Source)> moving, int target, CancellationToken ct)
    {
        var connection = await dataSource.Shards[0].Primary.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                foreach (var (logical, source) in moving)
                {
                    var command = new MySqlCommand(
                        """
                        UPDATE shard_placements SET physical_shard = @Target, state = 'PLACED', moving_to = NULL, leftover_on = @Source,
                          version = version + 1, updated_at = @Now
                        WHERE logical_shard = @Logical AND state = 'MOVING' AND moving_to = @Target AND physical_shard = @Source
                        """,
                        connection,
                        transaction);
                    var changed = await command.With("@Logical", logical).With("@Source", source).With("@Target", target).With("@Now", time.GetUtcNow().UtcDateTime).ExecuteAsync(ct).ConfigureAwait(false);
                    if (changed != 1)
                    {
                        throw new InvalidOperationException($"Logical shard {logical} changed in the catalog during its move to physical shard {target}; nothing was switched.");
                    }
                }

                await transaction.CommitAsync(ct).ConfigureAwait(false);
            }
        }

        await placements.RefreshAsync(ct).ConfigureAwait(false);
    }

    /// <summary>The logical shards (of those asked for) placed on their target whose old physical shard still has copies.</summary>
    private async Task<List<(int Logical, int LeftoverOn)>> LeftoversAsync(int[] shards, CancellationToken ct)
    {
        var current = await ShardPlacements.ReadAsync(dataSource.Shards[0].Primary, ct).ConfigureAwait(false);
        return [.. shards.Where(l => current[l] is { Moving: false, LeftoverOn: not null }).Select(l => (l, current[l]!.LeftoverOn!.Value))];
    }

    private async Task CatalogAsync(string sql, Func<MySqlCommand, MySqlCommand> bind, CancellationToken ct)
    {
        var connection = await dataSource.Shards[0].Primary.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await bind(new MySqlCommand(sql, connection)).With("@Now", time.GetUtcNow().UtcDateTime).ExecuteAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Copies the logical shard's rows of every table, in keyset batches by the logical-shard index; an upsert, so a re-run is harmless.</summary>
    private async Task<long> CopyAsync(ColumnCache cache, int logical, int source, int target, CancellationToken ct)
    {
        long copied = 0;
        var from = await dataSource.Shards[source].Primary.OpenAsync(ct).ConfigureAwait(false);
        await using (from.ConfigureAwait(false))
        {
            var to = await dataSource.Shards[target].Primary.OpenAsync(ct).ConfigureAwait(false);
            await using (to.ConfigureAwait(false))
            {
                foreach (var table in Tables)
                {
                    var columns = await cache.GetAsync(source, from, table, ct).ConfigureAwait(false);
                    if (columns.Length == 0)
                    {
                        continue;
                    }

                    var keyIndexes = table.Key.Select(k => Array.IndexOf(columns, k)).ToArray();
                    object[]? last = null;
                    while (true)
                    {
                        var rows = new List<object[]>();
                        var select = new MySqlCommand(SelectBatch(table, columns, last is not null), from);
                        await using (select.ConfigureAwait(false))
                        {
                            select.With("@Logical", logical).With("@Limit", BatchSize);
                            for (var k = 0; last is not null && k < table.Key.Length; k++)
                            {
                                select.With($"@k{k}", last[k]);
                            }

                            var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
                            await using (reader.ConfigureAwait(false))
                            {
                                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                                {
                                    var values = new object[columns.Length];
                                    reader.GetValues(values);
                                    rows.Add(values);
                                }
                            }
                        }

                        if (rows.Count == 0)
                        {
                            break;
                        }

                        await UpsertAsync(to, table, columns, rows, ct).ConfigureAwait(false);
                        copied += rows.Count;
                        last = [.. keyIndexes.Select(i => rows[^1][i])];
                        if (rows.Count < BatchSize)
                        {
                            break;
                        }
                    }
                }
            }
        }

        return copied;
    }

    private static string SelectBatch(ShardedTable table, string[] columns, bool after)
    {
        var sql = new StringBuilder("SELECT ").AppendJoin(", ", columns.Select(Quote)).Append(" FROM ").Append(Quote(table.Name))
            .Append(" WHERE ").Append(Quote(table.ShardColumn)).Append(" = @Logical");
        if (after)
        {
            sql.Append(" AND (").AppendJoin(", ", table.Key.Select(Quote)).Append(") > (")
                .AppendJoin(", ", table.Key.Select((_, k) => $"@k{k}")).Append(')');
        }

        return sql.Append(" ORDER BY ").Append(Quote(table.ShardColumn)).Append(", ").AppendJoin(", ", table.Key.Select(Quote)).Append(" LIMIT @Limit").ToString();
    }

    private static async Task UpsertAsync(MySqlConnection to, ShardedTable table, string[] columns, List<object[]> rows, CancellationToken ct)
    {
        var sql = new StringBuilder("INSERT INTO ").Append(Quote(table.Name)).Append(" (").AppendJoin(", ", columns.Select(Quote)).Append(") VALUES ");
        var command = new MySqlCommand { Connection = to };
        for (var r = 0; r < rows.Count; r++)
        {
            sql.Append(r == 0 ? "(" : ", (");
            for (var c = 0; c < columns.Length; c++)
            {
                var name = string.Create(CultureInfo.InvariantCulture, $"@p{r}_{c}");
                sql.Append(c == 0 ? string.Empty : ", ").Append(name);
                command.Parameters.AddWithValue(name, rows[r][c]);
            }

            sql.Append(')');
        }

        // An earlier, interrupted copy may have written some rows already: make them equal to the source's.
        var updates = columns.Where(c => !table.Key.Contains(c)).Select(c => $"{Quote(c)} = VALUES({Quote(c)})").ToList();
        sql.Append(" ON DUPLICATE KEY UPDATE ").AppendJoin(", ", updates.Count > 0 ? updates : [$"{Quote(table.Key[0])} = {Quote(table.Key[0])}"]);
        command.CommandText = sql.ToString();
        await command.ExecuteAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Compares the row count and a checksum of every column, per table, between source and target.</summary>
    private async Task VerifyAsync(ColumnCache cache, int logical, int source, int target, CancellationToken ct)
    {
        var from = await dataSource.Shards[source].Primary.OpenAsync(ct).ConfigureAwait(false);
        await using (from.ConfigureAwait(false))
        {
            var to = await dataSource.Shards[target].Primary.OpenAsync(ct).ConfigureAwait(false);
            await using (to.ConfigureAwait(false))
            {
                foreach (var table in Tables)
                {
                    var columns = await cache.GetAsync(source, from, table, ct).ConfigureAwait(false);
                    if (columns.Length == 0)
                    {
                        continue;
                    }

                    var sql = $"SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('#', {string.Join(", ", columns.Select(c => $"IFNULL({Quote(c)}, '~')"))}))), 0) FROM {Quote(table.Name)} WHERE {Quote(table.ShardColumn)} = @Logical";
                    var (sourceCount, sourceSum) = await CountAsync(from, sql, logical, ct).ConfigureAwait(false);
                    var (targetCount, targetSum) = await CountAsync(to, sql, logical, ct).ConfigureAwait(false);
                    if (sourceCount != targetCount || sourceSum != targetSum)
                    {
                        throw new InvalidOperationException(
                            $"The copy of logical shard {logical} to physical shard {target} does not match its source for table {table.Name} ({sourceCount} rows on physical shard {source}, {targetCount} on {target}, checksums {(sourceSum == targetSum ? "equal" : "differ")}). The logical shard stays MOVING (writes refused); call MoveAsync again after finding why.");
                    }
                }
            }
        }
    }

    private static async Task<(long Count, decimal Sum)> CountAsync(MySqlConnection connection, string sql, int logical, CancellationToken ct)
    {
        var command = new MySqlCommand(sql, connection).With("@Logical", logical);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                await reader.ReadAsync(ct).ConfigureAwait(false);
                return (reader.GetInt64(0), reader.GetDecimal(1));
            }
        }
    }

    /// <summary>Deletes the logical shard's rows from a physical shard, children first, in batches.</summary>
    private async Task<long> DeleteAsync(ColumnCache cache, int logical, int shard, CancellationToken ct)
    {
        long deleted = 0;
        var connection = await dataSource.Shards[shard].Primary.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            foreach (var table in Tables.Reverse())
            {
                if ((await cache.GetAsync(shard, connection, table, ct).ConfigureAwait(false)).Length == 0)
                {
                    continue;
                }

                var sql = $"DELETE FROM {Quote(table.Name)} WHERE {Quote(table.ShardColumn)} = @Logical ORDER BY {string.Join(", ", table.Key.Select(Quote))} LIMIT @Limit";
                while (true)
                {
                    var batch = await new MySqlCommand(sql, connection).With("@Logical", logical).With("@Limit", BatchSize).ExecuteAsync(ct).ConfigureAwait(false);
                    deleted += batch;
                    if (batch < BatchSize)
                    {
                        break;
                    }
                }
            }
        }

        return deleted;
    }

    /// <summary>The stored columns of each table on each physical shard, read once per move.</summary>
    private sealed class ColumnCache
    {
        private readonly Dictionary<(int Shard, string Table), string[]> _columns = [];

        public async Task<string[]> GetAsync(int shard, MySqlConnection connection, ShardedTable table, CancellationToken ct)
        {
            if (!_columns.TryGetValue((shard, table.Name), out var columns))
            {
                columns = await ColumnsAsync(connection, table, ct).ConfigureAwait(false);
                _columns[(shard, table.Name)] = columns;
            }

            return columns;
        }
    }

    /// <summary>The table's stored (not generated) columns in order; empty when the table does not exist there.</summary>
    private static async Task<string[]> ColumnsAsync(MySqlConnection connection, ShardedTable table, CancellationToken ct)
    {
        var command = new MySqlCommand(
            """
            SELECT column_name FROM information_schema.columns
            WHERE table_schema = DATABASE() AND table_name = @Table AND COALESCE(generation_expression, '') = ''
            ORDER BY ordinal_position
            """,
            connection).With("@Table", table.Name);
        return [.. await command.ReadListAsync(static r => r.GetString(0), ct).ConfigureAwait(false)];
    }

    private static string Quote(string identifier) => "`" + identifier.Replace("`", "``", StringComparison.Ordinal) + "`";

    [LoggerMessage(EventId = 32, Level = LogLevel.Information, Message = "RideBooking.Data: moved {LogicalShards} logical shards to physical shard {Target}: {Copied} rows copied, {Deleted} old copies deleted, in {ElapsedMs:F0} ms")]
    private static partial void LogMoved(ILogger logger, int logicalShards, int target, long copied, long deleted, double elapsedMs);
}
