using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>
/// The lag watch: every <see cref="RideBookingOptions.ReplicaCheckInterval"/> it asks each replica for its replication
/// state (<c>SHOW REPLICA STATUS</c>, MariaDB 10.5+ and MySQL 8.0.22+). A replica is in rotation only while both
/// replication threads run and its lag is at most <see cref="RideBookingOptions.MaxReplicaLag"/>; until its first
/// check it gets no reads.
/// </summary>
internal sealed partial class ReplicaMonitor : IAsyncDisposable, IDisposable
{
    private readonly RideBookingDataSource _dataSource;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _interval;
    private readonly double _maxLagSeconds;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public ReplicaMonitor(RideBookingDataSource dataSource, IOptions<RideBookingOptions> options, TimeProvider time, RideBookingMetrics metrics, ILoggerFactory? loggerFactory = null)
    {
        _dataSource = dataSource;
        _time = time;
        _logger = (ILogger?)loggerFactory?.CreateLogger<ReplicaMonitor>() ?? NullLogger.Instance;
        _interval = options.Value.ReplicaCheckInterval;
        _maxLagSeconds = options.Value.MaxReplicaLag.TotalSeconds;
        var replicas = dataSource.Shards.SelectMany(shard => shard.Replicas).ToArray();
        metrics.ObserveReplicaLag(replicas);
        _loop = replicas.Length == 0 ? Task.CompletedTask : Task.Run(() => WatchAsync(replicas, _stop.Token));
    }

    /// <summary>Checks every replica once now (also used by tests that change a replica's state).</summary>
    public Task CheckAllAsync(CancellationToken ct) =>
        Task.WhenAll(_dataSource.Shards.SelectMany(shard => shard.Replicas).Select(replica => CheckAsync(replica, ct)));

    private async Task WatchAsync(ReplicaNode[] replicas, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.WhenAll(replicas.Select(replica => CheckAsync(replica, ct))).ConfigureAwait(false);
                await Task.Delay(_interval, _time, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task CheckAsync(ReplicaNode replica, CancellationToken ct)
    {
        double? lag = null;
        string state;
        try
        {
            var connection = await replica.Pool.OpenAsync(ct).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var command = new MySqlCommand("SHOW REPLICA STATUS", connection);
                await using (command.ConfigureAwait(false))
                {
                    var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        if (!await reader.ReadAsync(ct).ConfigureAwait(false))
                        {
                            state = "replication is not configured";
                        }
                        else
                        {
                            var io = Text(reader, "Slave_IO_Running", "Replica_IO_Running");
                            var sql = Text(reader, "Slave_SQL_Running", "Replica_SQL_Running");
                            var seconds = Text(reader, "Seconds_Behind_Master", "Seconds_Behind_Source");
                            if (!string.Equals(io, "Yes", StringComparison.OrdinalIgnoreCase) || !string.Equals(sql, "Yes", StringComparison.OrdinalIgnoreCase))
                            {
                                state = "replication is stopped";
                            }
                            else if (!double.TryParse(seconds, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var measured))
                            {
                                state = "the lag is unknown";
                            }
                            else
                            {
                                lag = measured;
                                state = measured <= _maxLagSeconds ? "healthy" : "lagging";
                            }
                        }
                    }
                }
            }
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && (ex is MySqlException || TransactionRunner.IsConnectionFailure(ex)))
        {
            state = $"did not answer ({ShardReader.Describe(ex)})";
        }

        replica.LagSeconds = lag;
        replica.State = state;
        var healthy = state == "healthy";
        if (replica.Healthy != healthy)
        {
            replica.Healthy = healthy;
            if (healthy)
            {
                LogBack(_logger, replica.Pool.Name, lag ?? 0);
            }
            else
            {
                LogOut(_logger, replica.Pool.Name, state, lag);
            }
        }
    }

    internal static string? Text(MySqlDataReader reader, string name, string alternative)
    {
        for (var i = 0; i < reader.FieldCount; i++)
        {
            var field = reader.GetName(i);
            if (string.Equals(field, name, StringComparison.OrdinalIgnoreCase) || string.Equals(field, alternative, StringComparison.OrdinalIgnoreCase))
            {
                return reader.IsDBNull(i) ? null : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

    }

    public void Dispose()
    {
        // The loop only waits and reads; cancelling it is enough, it ends on its own.
        _stop.Cancel();
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "RideBooking.Data: {Replica} is out of rotation: {State} (lag {LagSeconds} s); its reads go to the primary")]
    private static partial void LogOut(ILogger logger, string replica, string state, double? lagSeconds);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "RideBooking.Data: {Replica} is back in rotation (lag {LagSeconds} s)")]
    private static partial void LogBack(ILogger logger, string replica, double lagSeconds);
}
