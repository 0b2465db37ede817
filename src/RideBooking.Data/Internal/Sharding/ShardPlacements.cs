using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>Where one logical shard is, as the catalog says.</summary>
/// <param name="Physical">The physical shard that serves it (reads, and writes unless it is moving).</param>
/// <param name="MovingTo">The target of a move in progress; <see langword="null"/> when placed.</param>
/// <param name="LeftoverOn">A physical shard that still holds copies of its rows after a move (deleted next).</param>
/// <param name="Version">Grows with every change of the row.</param>
internal sealed record Placement(int Physical, int? MovingTo, int? LeftoverOn, long Version)
{
    public bool Moving => MovingTo is not null;
}

/// <summary>
/// The placements of the logical shards, loaded from the catalog (<c>shard_placements</c> on physical shard 0's primary)
/// when the process starts and again every <see cref="RideBookingOptions.PlacementRefreshInterval"/>. A logical shard
/// without a row is on <c>logical % BasePhysicalShardCount</c>. With one physical shard nothing is loaded.
/// </summary>
internal sealed partial class ShardPlacements : IAsyncDisposable, IDisposable
{
    internal const string Load = "SELECT logical_shard, physical_shard, moving_to, leftover_on, version FROM shard_placements";

    private readonly RideBookingDataSource _dataSource;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _loop;
    private readonly Lock _firstLoadGate = new();
    private volatile Placement?[]? _current;
    private bool _failing;

    public ShardPlacements(RideBookingDataSource dataSource, IOptions<RideBookingOptions> options, TimeProvider time, ILoggerFactory? loggerFactory = null)
    {
        _dataSource = dataSource;
        _time = time;
        _logger = (ILogger?)loggerFactory?.CreateLogger<ShardPlacements>() ?? NullLogger.Instance;
        Interval = options.Value.PlacementRefreshInterval;
        BaseCount = Math.Clamp(options.Value.BasePhysicalShardCount ?? dataSource.Shards.Length, 1, dataSource.Shards.Length);
        if (dataSource.Shards.Length == 1)
        {
            _current = new Placement?[IdGenerator.LogicalShardCount];
            _firstAttempt.SetResult();
            _loop = Task.CompletedTask;
        }
        else
        {
            _loop = Task.Run(() => WatchAsync(_stop.Token));
        }
    }

    /// <summary>Gets how often the placements are reloaded.</summary>
    public TimeSpan Interval { get; }

    /// <summary>Gets the number of physical shards that logical shards without a placement are spread over.</summary>
    public int BaseCount { get; }

    /// <summary>Gets the placements by logical shard (<see langword="null"/>: no row, the base map applies); waits for the first load.</summary>
    public IReadOnlyList<Placement?> Current
    {
        get
        {
            var current = _current;
            if (current is not null)
            {
                return current;
            }

            // Only the first routings of a process can get here: wait for the first load (started with the process). Under
            // load that load may have failed or be starved of threads: then read the catalog once more, synchronously
            // (no thread-pool thread needed), before giving up.
            _firstAttempt.Task.Wait(TimeSpan.FromSeconds(5));
            lock (_firstLoadGate)
            {
                if (_current is null)
                {
                    try
                    {
                        _current = Read(_dataSource.Shards[0].Primary.ConnectionString);
                    }
                    catch (MySqlException)
                    {
                        // Reported below as the shard being unavailable.
                    }
                }
            }

            return _current ?? throw new ShardUnavailableException("The shard placements could not be loaded from physical shard 0 (the catalog); nothing can be routed until they are.")
            {
                Operation = "LoadShardPlacements",
                PhysicalShard = 0,
                IsTransient = true,
            };
        }
    }

    /// <summary>Gets the physical shard that serves a logical shard now.</summary>
    public int PhysicalShardOf(int logicalShard) => Current[logicalShard]?.Physical ?? BaseOf(logicalShard);

    /// <summary>
    /// Where a logical shard is now, without waiting for the first load of the catalog (for telemetry, which must never
    /// block or fail an operation); <see langword="false"/> until the placements are loaded.
    /// </summary>
    public bool TryPhysicalShardOf(int logicalShard, out int physicalShard)
    {
        if (_current is { } current)
        {
            physicalShard = current[logicalShard]?.Physical ?? BaseOf(logicalShard);
            return true;
        }

        physicalShard = -1;
        return false;
    }

    /// <summary>Gets where a logical shard is when it has no placement row.</summary>
    public int BaseOf(int logicalShard) => logicalShard % BaseCount;

    /// <summary>
    /// Refuses a write to a moving logical shard. A unit that names no logical shard is refused while any logical shard is
    /// moving to or from its physical shard, or has copies left there after a move.
    /// </summary>
    public void ThrowIfMoving(string operation, int physicalShard, int[] logicalShards)
    {
        var current = Current;
        if (logicalShards.Length > 0)
        {
            foreach (var logical in logicalShards)
            {
                if (current[logical] is { Moving: true } placement)
                {
                    throw Moving(operation, logical, placement);
                }
            }

            return;
        }

        for (var logical = 0; logical < current.Count; logical++)
        {
            if (current[logical] is { } placement
                && ((placement.Moving && (placement.Physical == physicalShard || placement.MovingTo == physicalShard)) || placement.LeftoverOn == physicalShard))
            {
                throw Moving(operation, logical, placement);
            }
        }
    }

    private static LogicalShardMovingException Moving(string operation, int logical, Placement placement) =>
        new(placement.Moving
            ? $"Logical shard {logical} is moving from physical shard {placement.Physical} to {placement.MovingTo}; writes to it are refused until the move has finished. Nothing was written; try again."
            : $"Logical shard {logical} has just moved to physical shard {placement.Physical} and its old copies are being deleted; this write could not tell its logical shard, so it is refused until then. Nothing was written; try again.")
        {
            Operation = operation,
            LogicalShard = logical,
            IsTransient = true,
        };

    /// <summary>Reloads the placements now.</summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        if (_dataSource.Shards.Length == 1)
        {
            return;
        }

        _current = await ReadAsync(_dataSource.Shards[0].Primary, ct).ConfigureAwait(false);
    }

    /// <summary>Reads the catalog synchronously, on a connection of its own.</summary>
    private static Placement?[] Read(string connectionString)
    {
        var placements = new Placement?[IdGenerator.LogicalShardCount];
        using var connection = new MySqlConnection(connectionString);
        connection.Open();
        using var command = new MySqlCommand(Load, connection);
        try
        {
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                Add(placements, reader);
            }
        }
        catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.NoSuchTable)
        {
            // Schema 008 is not applied: no placements, every logical shard follows the base map.
        }

        return placements;
    }

    private static void Add(Placement?[] placements, MySqlDataReader reader)
    {
        var logical = reader.GetInt32(0);
        if ((uint)logical < (uint)placements.Length)
        {
            placements[logical] = new Placement(
                reader.GetInt32(1),
                reader.IsDBNull(2) ? null : reader.GetInt32(2),
                reader.IsDBNull(3) ? null : reader.GetInt32(3),
                reader.GetInt64(4));
        }
    }

    /// <summary>Reads the catalog.</summary>
    internal static async Task<Placement?[]> ReadAsync(ServerPool catalog, CancellationToken ct)
    {
        var placements = new Placement?[IdGenerator.LogicalShardCount];
        var connection = await catalog.OpenAsync(ct).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = new MySqlCommand(Load, connection);
            await using (command.ConfigureAwait(false))
            {
                try
                {
                    var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        while (await reader.ReadAsync(ct).ConfigureAwait(false))
                        {
                            Add(placements, reader);
                        }
                    }
                }
                catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.NoSuchTable)
                {
                    // Schema 008 is not applied: no placements, every logical shard follows the base map.
                }
            }
        }

        return placements;
    }

    private async Task WatchAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync(ct).ConfigureAwait(false);
                if (_failing)
                {
                    _failing = false;
                    LogBack(_logger);
                }
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && (ex is MySqlException || TransactionRunner.IsConnectionFailure(ex)))
            {
                if (!_failing)
                {
                    _failing = true;
                    LogFailed(_logger, ShardReader.Describe(ex));
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            finally
            {
                _firstAttempt.TrySetResult();
            }

            try
            {
                await Task.Delay(Interval, _time, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
        }
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

    public void Dispose() => _stop.Cancel();

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "RideBooking.Data: the shard placements could not be reloaded from physical shard 0 ({Error}); the last ones loaded stay in use")]
    private static partial void LogFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 31, Level = LogLevel.Information, Message = "RideBooking.Data: the shard placements are reloaded again")]
    private static partial void LogBack(ILogger logger);
}
