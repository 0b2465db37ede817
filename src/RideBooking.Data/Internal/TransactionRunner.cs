using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>
/// What a unit of work gets: an open connection and the commands to run on it. In a transactional
/// unit the first command also starts the transaction (READ COMMITTED), so beginning costs no round
/// trip of its own. The runner sends COMMIT after the unit returns and ROLLBACK when it throws,
/// unless the unit ended the transaction itself inside its last command (saving that round trip).
/// </summary>
internal sealed class UnitOfWork(
    MySqlConnection connection,
    bool transactional,
    int attempt,
    bool afterUnknownCommit,
    Func<MySqlConnection, MySqlCommand?, CancellationToken, Task>? beforeCommit,
    string? writeMarkQuery,
    bool oneStatementPerCommand)
{
    /// <summary>The session's isolation level is READ COMMITTED (set when the connection was opened).</summary>
    internal const string BeginTransaction = "START TRANSACTION;\n";

    /// <summary>Gets the open connection.</summary>
    public MySqlConnection Connection { get; } = connection;

    /// <summary>Gets 1 for the first run, 2 and up for retries.</summary>
    public int Attempt { get; } = attempt;

    /// <summary>
    /// Gets a value indicating whether an earlier attempt may have committed (the connection failed while COMMIT
    /// was in flight): the unit must first look for its own earlier result and return it instead of writing again.
    /// </summary>
    public bool AfterUnknownCommit { get; } = afterUnknownCommit;

    /// <summary>Gets a value indicating whether a transaction was started on the connection.</summary>
    public bool Began { get; private set; }

    /// <summary>Gets a value indicating whether an autocommit unit sent a write (its outcome is unknown if the connection then fails).</summary>
    public bool SentWrite { get; private set; }

    /// <summary>Gets a value indicating whether the unit sent COMMIT at the end of one of its commands.</summary>
    public bool CommitInFlight { get; private set; }

    /// <summary>Gets a value indicating whether the unit ended the transaction with a ROLLBACK that ran first in one of its commands.</summary>
    public bool RolledBack { get; private set; }

    /// <summary>
    /// Gets the GTID of the unit's last write on a shard with replicas (read in the same round trip as the write or
    /// its COMMIT), so that later replica reads can wait for it; <see langword="null"/> when not tracked.
    /// </summary>
    public string? WriteMark { get; private set; }

    /// <summary>Gets the query, sent after a write in the same batch, that reads the write's GTID; <see langword="null"/> when the shard has no replicas.</summary>
    internal string? WriteMarkQuery { get; } = writeMarkQuery;

    /// <summary>
    /// Gets a value indicating whether every statement must be a command of its own (a Galera node). A transaction
    /// aborted by a replicated write set is then reported (1213) on the statement it meets, never answered OK with the
    /// rest of a batch run in autocommit mode; and COMMIT is sent by the runner after the unit returns, where a
    /// certification failure is reported instead of an OK for a transaction that was never stored.
    /// </summary>
    internal bool OneStatementPerCommand { get; } = oneStatementPerCommand;

    /// <summary>Appends the GTID read to an autocommit write command; its results must end with <see cref="CaptureWriteMarkAsync"/>.</summary>
    public UnitCommand MarkWrite(UnitCommand command)
    {
        SentWrite = true;
        if (WriteMarkQuery is not null)
        {
            command.CommandText = command.CommandText.TrimEnd().TrimEnd(';') + ";\n" + WriteMarkQuery;
        }

        return command;
    }

    /// <summary>Runs what is left of the command and reads the GTID that <see cref="MarkWrite"/> appended (its last result set).</summary>
    public async Task CaptureWriteMarkAsync(UnitResults results, CancellationToken ct)
    {
        while (await results.NextResultAsync(ct).ConfigureAwait(false))
        {
            if (WriteMarkQuery is not null && results.Reader.FieldCount > 0 && await results.ReadAsync(ct).ConfigureAwait(false) && !results.Reader.IsDBNull(0))
            {
                WriteMark = results.Reader.GetString(0);
            }
        }
    }

    /// <summary>
    /// Runs an autocommit write whose command ends with a read of what it stored, the GTID read appended when tracked: returns
    /// the read's first row mapped, or <paramref name="noRow"/>, once every statement of the command has run.
    /// </summary>
    public async Task<T> WriteThenReadFirstRowAsync<T>(UnitCommand command, Func<MySqlDataReader, T> map, T noRow, CancellationToken ct)
    {
        await using (MarkWrite(command).ConfigureAwait(false))
        {
            var results = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using (results.ConfigureAwait(false))
            {
                var row = await results.ReadAsync(ct).ConfigureAwait(false) ? map(results.Reader) : noRow;
                await CaptureWriteMarkAsync(results, ct).ConfigureAwait(false);
                return row;
            }
        }
    }

    /// <summary>
    /// Runs (and consumes) a command whose only result set is the GTID read appended to it, keeps that GTID, and returns
    /// the rows the command's writes affected.
    /// </summary>
    private async Task<int> ExecuteReadingWriteMarkAsync(UnitCommand command, CancellationToken ct)
    {
        await using (command.ConfigureAwait(false))
        {
            var results = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using (results.ConfigureAwait(false))
            {
                // The writes have no result set, so the results start on the GTID's.
                if (results.Reader.FieldCount > 0 && await results.ReadAsync(ct).ConfigureAwait(false) && !results.Reader.IsDBNull(0))
                {
                    WriteMark = results.Reader.GetString(0);
                }

                await CaptureWriteMarkAsync(results, ct).ConfigureAwait(false);
                return results.RecordsAffected;
            }
        }
    }

    /// <summary>Runs an autocommit write with no result set, reading its GTID in the same round trip when tracked.</summary>
    public async Task<int> ExecuteWriteAsync(UnitCommand command, CancellationToken ct)
    {
        SentWrite = true;
        if (WriteMarkQuery is null)
        {
            return await command.ExecuteAsync(ct).ConfigureAwait(false);
        }

        return await ExecuteReadingWriteMarkAsync(MarkWrite(command), ct).ConfigureAwait(false);
    }

    /// <summary>Sends COMMIT (and the GTID read when tracked) as the runner's own round trip.</summary>
    internal async Task CommitAsync(string statement, CancellationToken ct)
    {
        var command = new UnitCommand(this, new MySqlCommand(statement, Connection));
        if (WriteMarkQuery is null)
        {
            await command.ExecuteAsync(ct).ConfigureAwait(false);
            return;
        }

        await ExecuteWriteAsync(command, ct).ConfigureAwait(false);
    }

    /// <summary>Gets or sets a test seam: rewrites the SQL text of every command the unit creates.</summary>
    internal Func<string, string>? RewriteSql { get; set; }

    /// <summary>A command of this unit; the first one of a transactional unit also starts the transaction.</summary>
    public UnitCommand CreateCommand(string sql)
    {
        if (RewriteSql is { } rewrite)
        {
            sql = rewrite(sql);
        }

        if (transactional && !Began)
        {
            Began = true;
            sql = BeginTransaction + sql;
        }

        return new UnitCommand(this, new MySqlCommand(sql, Connection));
    }

    /// <summary>
    /// Runs the command and COMMIT in one round trip. A server error stops the batch at the failing
    /// statement, so the COMMIT then never runs; a lost connection leaves the outcome unknown.
    /// </summary>
    public async Task<int> ExecuteAndCommitAsync(UnitCommand command, CancellationToken ct)
    {
        if (OneStatementPerCommand)
        {
            return await command.ExecuteAsync(ct).ConfigureAwait(false);
        }

        command.CommandText = command.CommandText.TrimEnd().TrimEnd(';') + ";\nCOMMIT";
        CommitInFlight = true;
        if (beforeCommit is { } hook)
        {
            await hook(Connection, command.Command, ct).ConfigureAwait(false);
        }

        if (WriteMarkQuery is null)
        {
            return await command.ExecuteAsync(ct).ConfigureAwait(false);
        }

        command.CommandText += ";\n" + WriteMarkQuery;
        return await ExecuteReadingWriteMarkAsync(command, ct).ConfigureAwait(false);
    }

    /// <summary>Ends the transaction with ROLLBACK and runs the command's query after it, in one round trip; returns its first row or <see langword="null"/>.</summary>
    public Task<T?> RollBackThenReadAsync<T>(UnitCommand command, Func<MySqlDataReader, T> map, CancellationToken ct)
        where T : class
    {
        command.CommandText = "ROLLBACK;\n" + command.CommandText;
        RolledBack = true;
        return command.ReadSingleOrDefaultAsync(map, ct);
    }

    /// <summary>
    /// Runs the command and COMMIT in one round trip, as <see cref="ExecuteAndCommitAsync"/>, and returns its result sets
    /// (the command's reads, which run before the COMMIT); the caller ends with <see cref="CaptureWriteMarkAsync"/>.
    /// </summary>
    public async Task<UnitResults> ExecuteReaderAndCommitAsync(UnitCommand command, CancellationToken ct)
    {
        if (OneStatementPerCommand)
        {
            return await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        }

        command.CommandText = command.CommandText.TrimEnd().TrimEnd(';') + ";\nCOMMIT";
        CommitInFlight = true;
        if (beforeCommit is { } hook)
        {
            await hook(Connection, command.Command, ct).ConfigureAwait(false);
        }

        if (WriteMarkQuery is not null)
        {
            command.CommandText += ";\n" + WriteMarkQuery;
        }

        return await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Ends the transaction with ROLLBACK and runs the command's query after it, in one round trip; returns its first value.</summary>
    public Task<long> RollBackThenReadInt64Async(UnitCommand command, CancellationToken ct)
    {
        command.CommandText = "ROLLBACK;\n" + command.CommandText;
        RolledBack = true;
        return command.ReadInt64Async(ct);
    }
}

/// <summary>What resolves a write whose outcome stays unknown: the caller's key, the generated id, or the transaction id.</summary>
internal sealed record OutcomeKey(long? EntityId = null, string? TransactionId = null, string? IdempotencyKey = null);

/// <summary>
/// Runs every write of the library: opens the connection and transaction, commits, and retries the
/// whole unit on deadlock (1213) and lock wait timeout (1205) with jittered exponential backoff.
/// Business errors and non-transient errors are never retried.
/// </summary>
internal sealed partial class TransactionRunner
{
    private readonly RideBookingDataSource _dataSource;
    private readonly RideBookingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RideBookingMetrics _metrics;
    private readonly ShardPlacements? _placements;

    public TransactionRunner(
        RideBookingDataSource dataSource,
        IOptions<RideBookingOptions> options,
        TimeProvider time,
        RideBookingMetrics metrics,
        ILoggerFactory? loggerFactory = null,
        ShardPlacements? placements = null)
    {
        _dataSource = dataSource;
        _options = options.Value;
        _time = time;
        _metrics = metrics;
        _logger = (ILogger?)loggerFactory?.CreateLogger<TransactionRunner>() ?? NullLogger.Instance;
        _placements = placements;
    }

    /// <summary>Test seam: runs just before COMMIT is sent, with the command that carries it when a unit commits in its own batch.</summary>
    internal Func<MySqlConnection, MySqlCommand?, CancellationToken, Task>? BeforeCommit { get; set; }

    /// <summary>Test seam: rewrites the SQL text of every command of every unit (for example to make a statement run long).</summary>
    internal Func<string, string>? RewriteSql { get; set; }

    /// <summary>Test seam: the statement the runner sends to commit a unit on its own (asked once per COMMIT).</summary>
    internal Func<string> CommitStatement { get; set; } = static () => "COMMIT";

    /// <summary>
    /// A causality barrier on a Galera node: the read waits until the node has applied every write set the cluster ordered
    /// before it, so a replay after an ambiguous COMMIT sees the earlier attempt if the cluster stored it.
    /// </summary>
    internal const string CausalityBarrier = "SET STATEMENT wsrep_sync_wait = 1 FOR SELECT COUNT(*) FROM rides WHERE id = 0";

    /// <summary>
    /// Runs <paramref name="work"/> in a READ COMMITTED transaction, or in autocommit mode when
    /// <paramref name="transactional"/> is false (for units whose only write is a single statement).
    /// Every unit must be safe to replay when <see cref="UnitOfWork.AfterUnknownCommit"/> is set.
    /// </summary>
    public Task<T> RunAsync<T>(string operation, bool transactional, Func<UnitOfWork, CancellationToken, Task<T>> work, CancellationToken ct) =>
        RunAsync(operation, shard: 0, transactional, work, ct);

    /// <summary>
    /// Runs <paramref name="work"/> on the primary of physical shard <paramref name="shard"/>; see the other overload.
    /// <paramref name="outcomeKey"/> names what resolves a write whose outcome stays unknown (put in <see cref="CommitOutcomeUnknownException"/>).
    /// </summary>
    /// <remarks>
    /// Connection failures: when the connection fails before anything of the unit can have committed (a transactional unit
    /// whose COMMIT was not sent yet: the server rolls it back when the session goes), the unit runs again on a new physical
    /// connection, at most <see cref="MaxFreshConnectionRetries"/> times (a stale pooled connection costs the caller nothing).
    /// When COMMIT was in flight, or an autocommit write was sent, the outcome is unknown: the unit is replayed with
    /// <see cref="UnitOfWork.AfterUnknownCommit"/> set, on new connections, for at most <see cref="RideBookingOptions.UnknownOutcomeWaitTimeout"/>
    /// while the server does not answer; after that the call fails with <see cref="CommitOutcomeUnknownException"/>. Every
    /// other driver error leaves as a <see cref="RideBookingInfrastructureException"/>.
    /// </remarks>
    public async Task<T> RunAsync<T>(string operation, int shard, bool transactional, Func<UnitOfWork, CancellationToken, Task<T>> work, CancellationToken ct, Func<OutcomeKey>? outcomeKey = null)
    {
        var target = _dataSource.Shards[shard];
        var afterUnknownCommit = false;
        var lockRetries = 0;
        var freshRetries = 0;
        var fresh = false;
        var unknownSince = 0L;
        Exception? lastFailure = null;
        // The write fence of resharding: a unit that touches a moving logical shard is refused before it starts and again
        // just before COMMIT (a unit can route by another logical shard once it has read a row, see LogicalShardTrail).
        var trail = _placements is null ? null : LogicalShardTrail.BeginUnit();
        for (var attempt = 1; ; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            _placements?.ThrowIfMoving(operation, shard, trail!.Snapshot());
            var beforeCommit = _placements is null ? BeforeCommit : FencedBeforeCommit(operation, shard, trail!, BeforeCommit);
            MySqlConnection connection;
            try
            {
                connection = fresh ? await target.Primary.OpenFreshAsync(ct).ConfigureAwait(false) : await target.Primary.OpenAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (InfrastructureErrors.IsDriverFailure(ex))
            {
                ThrowIfCancelled(ex, ct);
                if (!afterUnknownCommit)
                {
                    throw InfrastructureErrors.Translate(operation, ex);
                }

                // The outcome is unknown and the server does not answer yet: wait for it, within the bound.
                lastFailure = ex;
                await WaitForServerAsync(operation, unknownSince, attempt, ex, outcomeKey, ct).ConfigureAwait(false);
                continue;
            }

            // On a shard with replicas every write also reads its GTID, in the same round trip, for read-your-writes.
            var writeMarkQuery = target.Replicas.Length == 0 ? null : target.Primary.IsMariaDb ? "SELECT @@last_gtid" : "SELECT @@global.gtid_executed";
            var unit = new UnitOfWork(connection, transactional, attempt, afterUnknownCommit, beforeCommit, writeMarkQuery, target.Primary.OneStatementPerCommand) { RewriteSql = RewriteSql };
            var commitSent = false;
            var ended = false;
            try
            {
                if (afterUnknownCommit && unit.OneStatementPerCommand && target.Primary.IsMariaDb)
                {
                    await ExecuteAsync(connection, CausalityBarrier, ct).ConfigureAwait(false);
                }

                var result = await work(unit, ct).ConfigureAwait(false);
                if (unit.Began && !unit.CommitInFlight && !unit.RolledBack)
                {
                    if (beforeCommit is { } hook)
                    {
                        await hook(connection, null, ct).ConfigureAwait(false);
                    }

                    commitSent = true;
                    await unit.CommitAsync(CommitStatement(), ct).ConfigureAwait(false);
                }

                ended = true;
                target.Written.Observe(unit.WriteMark);
                return result;
            }
            catch (MySqlException ex) when ((!commitSent || IsRolledBackAtCommit(ex) || (unit.OneStatementPerCommand && IsNodeNotReady(ex))) && IsRetryable(ex) && lockRetries < _options.MaxTransactionRetries)
            {
                // A deadlock rolled the whole transaction back already; a lock wait timeout rolled back
                // only the statement, so roll back the rest explicitly before running the unit again.
                // (A batch stops at its failing statement: a COMMIT after it never ran.) On Galera a certification
                // conflict is a deadlock reported by COMMIT itself: nothing was stored, so the unit runs again as well.
                lockRetries++;
                await RollBackQuietlyAsync(unit, target).ConfigureAwait(false);
                ended = true;
                if (!afterUnknownCommit && AmbiguousOnGalera(unit, transactional, commitSent))
                {
                    // On a Galera node an error reported by COMMIT (or by an autocommit write) does not prove that nothing
                    // was stored: the cluster can have certified the write set (seen with 1213 and with 1047). The unit runs
                    // again as after a lost COMMIT: behind a causality barrier it first looks for its own earlier result by its key.
                    afterUnknownCommit = true;
                    unknownSince = _time.GetTimestamp();
                }

                var reason = RetryReason(ex);
                _metrics.Retry(operation, reason);
                var delay = Backoff(lockRetries);
                LogRetry(_logger, operation, reason, (int)ex.ErrorCode, attempt, _options.MaxTransactionRetries, delay.TotalMilliseconds);
                await Task.Delay(delay, _time, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && IsLostConnection(ex, commitSent || unit.CommitInFlight, commitSent))
            {
                await RollBackQuietlyAsync(unit, target).ConfigureAwait(false);
                ended = true;
                lastFailure = ex;
                fresh = true;
                if (afterUnknownCommit || commitSent || unit.CommitInFlight || (!transactional && unit.SentWrite))
                {
                    // The outcome of the write is unknown. Run the unit again in replay mode: it finds its own earlier
                    // result by its pre-generated key instead of writing a second time.
                    if (!afterUnknownCommit)
                    {
                        afterUnknownCommit = true;
                        unknownSince = _time.GetTimestamp();
                        _metrics.Retry(operation, "unknown_commit");
                        LogUnknownCommit(_logger, operation, attempt, ex.GetType().Name);
                    }
                    else if (_time.GetElapsedTime(unknownSince) > _options.UnknownOutcomeWaitTimeout)
                    {
                        throw OutcomeUnknown(operation, ex, outcomeKey);
                    }
                }
                else if (freshRetries < MaxFreshConnectionRetries)
                {
                    // Nothing of the unit can have committed (a stale pooled connection, or the server went away before
                    // COMMIT): run it again on a new physical connection.
                    freshRetries++;
                    _metrics.Retry(operation, "connection_failure");
                    LogConnectionRetry(_logger, operation, attempt, InfrastructureErrors.Describe(ex));
                }
                else
                {
                    throw InfrastructureErrors.Translate(operation, ex);
                }
            }
            catch (RideBookingException) when (unit.RolledBack)
            {
                // The unit ended the transaction itself before it refused the operation.
                ended = true;
                throw;
            }
            catch (Exception ex) when (InfrastructureErrors.IsDriverFailure(ex))
            {
                ThrowIfCancelled(ex, ct);
                // Retries spent, or an error retrying cannot help: nothing of this attempt is kept (the finally rolls it back).
                // After an unknown COMMIT, this attempt's failure does not tell whether the first one was stored.
                if (!afterUnknownCommit && !(ex is MySqlException && AmbiguousOnGalera(unit, transactional, commitSent)))
                {
                    throw InfrastructureErrors.Translate(operation, ex);
                }

                throw OutcomeUnknown(operation, ex, outcomeKey, !afterUnknownCommit
                    ? "COMMIT on a Galera node reported an error, which does not prove that nothing was stored, and the retries are spent"
                    : ex is MySqlException mySql && IsRetryable(mySql)
                        ? "COMMIT on a Galera node reported an error, which does not prove that nothing was stored, and the replays that look for the write kept failing until the retries were spent"
                        : "the outcome of an earlier COMMIT is unknown and the replay that looks for the write failed");
            }
            finally
            {
                try
                {
                    if (!ended)
                    {
                        // A business error, another error, or cancellation: nothing of the unit is kept.
                        await RollBackQuietlyAsync(unit, target).ConfigureAwait(false);
                    }
                }
                finally
                {
                    // Even when the rollback itself failed in an unexpected way, the connection is never leaked.
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>
    /// A driver error raised because the caller cancelled (MySqlConnector reports a cancelled statement as "query interrupted"
    /// or a command timeout): the caller gets <see cref="OperationCanceledException"/>, never the driver's exception.
    /// </summary>
    internal static void ThrowIfCancelled(Exception ex, CancellationToken ct)
    {
        if (ct.IsCancellationRequested)
        {
            throw new OperationCanceledException("The operation was cancelled by the caller.", ex, ct);
        }
    }

    /// <summary>How many times a unit that failed before it could commit is run again on a new physical connection.</summary>
    internal const int MaxFreshConnectionRetries = 2;

    /// <summary>Test seam: the statement that ends a failed unit's transaction.</summary>
    internal string RollbackStatement { get; set; } = "ROLLBACK";

    /// <summary>Waits a little before the next attempt to reach the server, or gives up once the outcome has been unknown too long.</summary>
    private async Task WaitForServerAsync(string operation, long unknownSince, int attempt, Exception failure, Func<OutcomeKey>? outcomeKey, CancellationToken ct)
    {
        var waited = _time.GetElapsedTime(unknownSince);
        if (waited >= _options.UnknownOutcomeWaitTimeout)
        {
            throw OutcomeUnknown(operation, failure, outcomeKey);
        }

        var delay = TimeSpan.FromMilliseconds(Math.Min(1000, 100 * Math.Pow(2, Math.Min(attempt, 10) - 1)));
        if (delay > _options.UnknownOutcomeWaitTimeout - waited)
        {
            delay = _options.UnknownOutcomeWaitTimeout - waited;
        }

        LogWaitingForServer(_logger, operation, waited.TotalMilliseconds, InfrastructureErrors.Describe(failure));
        await Task.Delay(delay, _time, ct).ConfigureAwait(false);
    }

    private CommitOutcomeUnknownException OutcomeUnknown(string operation, Exception failure, Func<OutcomeKey>? outcomeKey, string? cause = null)
    {
        var key = outcomeKey?.Invoke();
        _metrics.Retry(operation, "unknown_outcome_given_up");
        var resolve = key?.IdempotencyKey is not null ? "repeat the call with the same idempotency key"
            : key?.TransactionId is not null ? "repeat the call with the same transaction id"
            : key?.EntityId is not null ? $"look up id {key.EntityId}"
            : "check whether it was stored";
        return new CommitOutcomeUnknownException(
            cause is null
                ? $"RideBooking.Data {operation}: the connection failed while the write was committing and the server did not answer again within {_options.UnknownOutcomeWaitTimeout.TotalSeconds:0.#} s; the write may or may not be stored: {resolve} once the server is back ({InfrastructureErrors.Describe(failure)})."
                : $"RideBooking.Data {operation}: {cause}; the write may or may not be stored: {resolve} ({InfrastructureErrors.Describe(failure)}).",
            failure)
        {
            Operation = operation,
            IsTransient = true,
            ErrorNumber = InfrastructureErrors.ErrorNumber(failure),
            IdempotencyKey = key?.IdempotencyKey,
            EntityId = key?.EntityId,
            TransactionId = key?.TransactionId,
        };
    }

    private Func<MySqlConnection, MySqlCommand?, CancellationToken, Task> FencedBeforeCommit(
        string operation, int shard, LogicalShardTrail.Trail trail, Func<MySqlConnection, MySqlCommand?, CancellationToken, Task>? next) =>
        (connection, command, ct) =>
        {
            _placements!.ThrowIfMoving(operation, shard, trail.Snapshot());
            return next?.Invoke(connection, command, ct) ?? Task.CompletedTask;
        };

    /// <summary>
    /// The connection failed (no answer from the server, or the server ended the session): as opposed to
    /// an error the server reported for a statement, which stops a batch before any COMMIT after it.
    /// </summary>
    internal static bool IsConnectionFailure(Exception ex) => ex switch
    {
        OperationCanceledException or RideBookingException or ArgumentException or LogicalShardMovingException => false,
        // Client-side errors carry no SQL state. 1927 (MariaDB) and 4031 (MySQL): the server ended the
        // session; 1317: the statement was interrupted. Replaying is always safe, so doubt counts as failure.
        MySqlException mySql => mySql.SqlState is null || mySql.ErrorCode == MySqlErrorCode.QueryInterrupted || (int)mySql.ErrorCode is 1927 or 4031,
        _ => true,
    };

    /// <summary>
    /// The connection was lost (a driver error without a server answer). While COMMIT is in flight any doubt counts, and so
    /// does a server error on the runner's own COMMIT: replaying by key is always safe there. (A server error inside a batch
    /// that ends in COMMIT stopped the batch before it: nothing was committed.)
    /// </summary>
    private static bool IsLostConnection(Exception ex, bool commitInFlight, bool commitSent) =>
        (InfrastructureErrors.IsDriverFailure(ex) && IsConnectionFailure(ex))
        || (commitInFlight && IsConnectionFailure(ex))
        || (commitSent && ex is MySqlException mySql && !IsRetryable(mySql));

    /// <summary>
    /// Whether a server error of this attempt leaves its outcome unknown: on a Galera node, an error reported by COMMIT
    /// itself (or by an autocommit write) after the write set may have been certified.
    /// </summary>
    private static bool AmbiguousOnGalera(UnitOfWork unit, bool transactional, bool commitSent) =>
        unit.OneStatementPerCommand && (commitSent || unit.CommitInFlight || (!transactional && unit.SentWrite));

    internal static bool IsRetryable(MySqlException ex) =>
        ex.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout || IsNodeNotReady(ex);

    /// <summary>
    /// 1047 (ER_UNKNOWN_COM_ERROR) from a Galera node that is not part of the primary component or not synced yet ("WSREP has
    /// not yet prepared node for application use", while it rejoins): the statement was refused, so the unit can run again.
    /// </summary>
    internal static bool IsNodeNotReady(MySqlException ex) => ex.Number == 1047 && ex.SqlState is not null;

    /// <summary>A server error that COMMIT itself reported after rolling the transaction back: a deadlock (a Galera certification conflict).</summary>
    internal static bool IsRolledBackAtCommit(MySqlException ex) => ex.ErrorCode == MySqlErrorCode.LockDeadlock;

    private static string RetryReason(MySqlException ex) =>
        ex.ErrorCode == MySqlErrorCode.LockDeadlock ? "deadlock" : IsNodeNotReady(ex) ? "node_not_ready" : "lock_wait_timeout";

    private TimeSpan Backoff(int attempt)
    {
        // Full jitter over an exponentially growing window: retries of colliding callers spread out.
        var window = _options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1);
        return TimeSpan.FromMilliseconds(window * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    private async Task RollBackQuietlyAsync(UnitOfWork unit, PhysicalShard target)
    {
        if (!unit.Began)
        {
            return;
        }

        try
        {
            await ExecuteAsync(unit.Connection, RollbackStatement, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (InfrastructureErrors.IsDriverFailure(ex) || ex is InvalidOperationException)
        {
            // The transaction may still be open on a live session. Pooled connections are not reset on checkout, so the
            // physical session must never be used again: the next caller's START TRANSACTION would commit what it holds.
            await target.Primary.DiscardAsync(unit.Connection).ConfigureAwait(false);
        }
    }

    private static Task<int> ExecuteAsync(MySqlConnection connection, string sql, CancellationToken ct) =>
        new MySqlCommand(sql, connection).ExecuteAsync(ct);

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "RideBooking.Data {Operation}: {Reason} (MySQL error {ErrorCode}) on attempt {Attempt}; retrying the whole transaction (at most {MaxRetries} retries) after {DelayMs:F0} ms")]
    private static partial void LogRetry(ILogger logger, string operation, string reason, int errorCode, int attempt, int maxRetries, double delayMs);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning,
        Message = "RideBooking.Data {Operation}: the connection failed while COMMIT was in flight on attempt {Attempt} ({ExceptionType}); replaying by the operation's idempotency key")]
    private static partial void LogUnknownCommit(ILogger logger, string operation, int attempt, string exceptionType);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning,
        Message = "RideBooking.Data {Operation}: the connection failed before anything could commit on attempt {Attempt} ({Error}); running it again on a new connection")]
    private static partial void LogConnectionRetry(ILogger logger, string operation, int attempt, string error);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning,
        Message = "RideBooking.Data {Operation}: waiting for the server to learn whether an unknown COMMIT was stored ({WaitedMs:F0} ms so far; {Error})")]
    private static partial void LogWaitingForServer(ILogger logger, string operation, double waitedMs, string error);
}
