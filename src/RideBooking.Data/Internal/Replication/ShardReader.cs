using Microsoft.Extensions.Options;
using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>
/// Runs the reads that are outside a transaction: on a healthy replica of the shard, after waiting there (in the same
/// round trip) for the writes the caller must see; on the primary when no replica is in rotation, the wait timed out
/// or the replica failed. A shard whose primary does not answer either raises <see cref="ShardUnavailableException"/>.
/// </summary>
internal sealed class ShardReader(RideBookingDataSource dataSource, IOptions<RideBookingOptions> options, RideBookingMetrics metrics, ReplicaMonitor monitor)
{
    private const string WaitMariaDb = "SELECT MASTER_GTID_WAIT(@rb_gtid, @rb_wait);\n";
    private const string WaitMySql = "SELECT WAIT_FOR_EXECUTED_GTID_SET(@rb_gtid, @rb_wait);\n";

    // MySQL treats a timeout of 0 as "wait forever": never send less than a millisecond.
    private readonly double _waitSeconds = Math.Max(options.Value.ReplicaWaitTimeout.TotalSeconds, 0.001);

    public int ShardCount => dataSource.Shards.Length;

    /// <summary>Gets the lag watch that decides which replicas are in rotation (started with the first reader).</summary>
    public ReplicaMonitor Monitor { get; } = monitor;

    /// <summary>
    /// Runs <paramref name="command"/> (not yet bound to a connection; consumed) on shard <paramref name="shard"/> and maps
    /// its results with <paramref name="read"/>.
    /// </summary>
    public async Task<T> ReadAsync<T>(string operation, int shard, MySqlCommand command, Func<MySqlDataReader, CancellationToken, Task<T>> read, CancellationToken ct, bool primaryOnly = false)
    {
        // A read routes nothing that a later write of the same flow must be fenced by.
        _ = LogicalShardTrail.Take();
        await using (command.ConfigureAwait(false))
        {
            var target = dataSource.Shards[shard];
            if (!primaryOnly && target.PickReplica() is { } replica)
            {
                var (served, result) = await TryReplicaAsync(target, replica, command, read, ct).ConfigureAwait(false);
                if (served)
                {
                    metrics.Read(shard, "replica");
                    return result!;
                }
            }

            // A stale pooled connection (a server restart, or wait_timeout closed it) fails before the read runs: a read is
            // always safe to run again, once, on a new physical connection.
            for (var fresh = false; ; fresh = true)
            {
                try
                {
                    var connection = fresh ? await target.Primary.OpenFreshAsync(ct).ConfigureAwait(false) : await target.Primary.OpenAsync(ct).ConfigureAwait(false);
                    await using (connection.ConfigureAwait(false))
                    {
                        command.Connection = connection;
                        var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                        await using (reader.ConfigureAwait(false))
                        {
                            var result = await read(reader, ct).ConfigureAwait(false);
                            metrics.Read(shard, "primary");
                            return result;
                        }
                    }
                }
                catch (Exception ex) when (ct.IsCancellationRequested && InfrastructureErrors.IsDriverFailure(ex))
                {
                    TransactionRunner.ThrowIfCancelled(ex, ct);
                    throw;
                }
                catch (Exception ex) when (!ct.IsCancellationRequested && InfrastructureErrors.IsPoolExhausted(ex))
                {
                    throw InfrastructureErrors.Translate(operation, ex);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested && InfrastructureErrors.IsDriverFailure(ex) && TransactionRunner.IsConnectionFailure(ex) && !fresh)
                {
                    metrics.Retry(operation, "connection_failure");
                }
                catch (Exception ex) when (!ct.IsCancellationRequested && TransactionRunner.IsConnectionFailure(ex))
                {
                    throw new ShardUnavailableException($"Physical shard {shard} did not answer ({target.Primary.Name}: {Describe(ex)}).", ex)
                    {
                        Operation = operation,
                        PhysicalShard = shard,
                        IsTransient = true,
                        ErrorNumber = InfrastructureErrors.ErrorNumber(ex),
                    };
                }
                catch (Exception ex) when (InfrastructureErrors.IsDriverFailure(ex) && !ct.IsCancellationRequested)
                {
                    throw InfrastructureErrors.Translate(operation, ex);
                }
                finally
                {
                    command.Connection = null;
                }
            }
        }
    }

    private async Task<(bool Served, T? Result)> TryReplicaAsync<T>(PhysicalShard shard, ReplicaNode replica, MySqlCommand command, Func<MySqlDataReader, CancellationToken, Task<T>> read, CancellationToken ct)
    {
        var query = command.CommandText;
        var position = ReadYourWrites.RequiredFor(shard);
        if (position is not null && string.Equals(position, replica.ConfirmedPosition, StringComparison.Ordinal))
        {
            // The replica already confirmed it has these writes: a replica never goes back, so no wait is needed.
            position = null;
        }

        var waits = false;
        try
        {
            var connection = await replica.Pool.OpenAsync(ct).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                command.Connection = connection;
                if (position is not null)
                {
                    waits = true;
                    // The wait runs on the replica in the read's own round trip; 0 means the writes are there.
                    command.CommandText = (replica.Pool.IsMariaDb ? WaitMariaDb : WaitMySql) + query;
                    command.Parameters.AddWithValue("@rb_gtid", position);
                    command.Parameters.AddWithValue("@rb_wait", _waitSeconds);
                }

                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    if (position is not null)
                    {
                        var caughtUp = await reader.ReadAsync(ct).ConfigureAwait(false) && !reader.IsDBNull(0) && reader.GetInt64(0) == 0;
                        if (!caughtUp)
                        {
                            metrics.ReplicaFallback(shard.Index, "wait_timeout");
                            return (false, default);
                        }

                        replica.ConfirmedPosition = position;
                        await reader.NextResultAsync(ct).ConfigureAwait(false);
                    }

                    return (true, await read(reader, ct).ConfigureAwait(false));
                }
            }
        }
        catch (Exception ex) when (ct.IsCancellationRequested && InfrastructureErrors.IsDriverFailure(ex))
        {
            TransactionRunner.ThrowIfCancelled(ex, ct);
            throw;
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && (TransactionRunner.IsConnectionFailure(ex) || ex is MySqlException))
        {
            // A replica that fails is out of rotation until the lag watch sees it healthy again.
            replica.Healthy = false;
            metrics.ReplicaFallback(shard.Index, "replica_error");
            return (false, default);
        }
        finally
        {
            command.CommandText = query;
            command.Connection = null;
            if (waits)
            {
                command.Parameters.RemoveAt("@rb_wait");
                command.Parameters.RemoveAt("@rb_gtid");
            }
        }
    }

    /// <summary>
    /// Runs one read per physical shard, in parallel, and returns their results in shard order. Any shard that does
    /// not answer fails the whole read with <see cref="ShardUnavailableException"/>: never a partial answer.
    /// </summary>
    public async Task<T[]> FanOutAsync<T>(string operation, Func<MySqlCommand> createCommand, Func<MySqlDataReader, CancellationToken, Task<T>> read, CancellationToken ct, bool primaryOnly = false)
    {
        var shards = dataSource.Shards.Length;
        if (shards == 1)
        {
            return [await ReadAsync(operation, 0, createCommand(), read, ct, primaryOnly).ConfigureAwait(false)];
        }

        var reads = new Task<T>[shards];
        for (var shard = 0; shard < shards; shard++)
        {
            reads[shard] = ReadAsync(operation, shard, createCommand(), read, ct, primaryOnly);
        }

        try
        {
            return await Task.WhenAll(reads).ConfigureAwait(false);
        }
        catch (ShardUnavailableException) when (reads.Count(r => r.IsFaulted) > 1)
        {
            var down = reads.Select((r, i) => (r, i)).Where(x => x.r.Exception?.InnerException is ShardUnavailableException).Select(x => x.i).ToList();
            throw new ShardUnavailableException($"Physical shards {string.Join(", ", down)} did not answer.", reads.First(r => r.IsFaulted).Exception!.InnerException)
            {
                Operation = operation,
                PhysicalShard = down[0],
                IsTransient = true,
            };
        }
    }

    /// <summary>The error's kind and number, never its message (which can name the server's address and user).</summary>
    internal static string Describe(Exception ex) => ex is MySqlException mySql ? $"MySQL error {(int)mySql.ErrorCode}" : ex.GetType().Name;
}
