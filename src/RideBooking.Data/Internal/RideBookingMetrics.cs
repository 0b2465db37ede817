using System.Diagnostics.Metrics;

namespace RideBooking.Data.Internal;

/// <summary>The library's own meter, "RideBooking.Data": bookings, conflicts, transaction retries, reads by target and replica lag.</summary>
internal sealed class RideBookingMetrics : IDisposable
{
    public const string MeterName = RideBookingTelemetry.MeterName;

    private readonly Meter _meter;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _bookings;
    private readonly Counter<long> _conflicts;
    private readonly Counter<long> _reads;
    private readonly Counter<long> _replicaFallbacks;
    private readonly Counter<long> _idCollisions;

    public RideBookingMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _retries = _meter.CreateCounter<long>("ridebooking.transaction.retries", "{retry}", "Transactions run again after a deadlock, lock wait timeout or unknown commit outcome.");
        _bookings = _meter.CreateCounter<long>("ridebooking.bookings", "{booking}", "Rides booked.");
        _conflicts = _meter.CreateCounter<long>("ridebooking.conflicts", "{conflict}", "Operations refused by a business rule.");
        _reads = _meter.CreateCounter<long>("ridebooking.reads", "{read}", "Reads outside a transaction, by physical shard and the server that served them (replica or primary).");
        _replicaFallbacks = _meter.CreateCounter<long>("ridebooking.replica.fallbacks", "{read}", "Replica reads sent to the primary instead: the read-your-writes wait timed out, or the replica failed.");
        _idCollisions = _meter.CreateCounter<long>("ridebooking.id.collisions", "{collision}", "Generated ids refused by the database because another process had used them; the write was retried with a new id.");
        _operationDuration = _meter.CreateHistogram(
            "ridebooking.operation.duration",
            "s",
            "Duration of each public operation of the library, by operation, outcome and physical shard.",
            tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
    }

    /// <summary>Gets the meter (tests listen to one service provider's instruments through it).</summary>
    internal Meter Meter => _meter;

    public void Retry(string operation, string reason) =>
        _retries.Add(1, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("reason", reason));

    public void Booked() => _bookings.Add(1);

    public void Conflict(string operation, string kind) =>
        _conflicts.Add(1, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("kind", kind));

    public void Read(int shard, string target) =>
        _reads.Add(1, new KeyValuePair<string, object?>("shard", BoxedShards[shard]), new KeyValuePair<string, object?>("target", target));

    public void ReplicaFallback(int shard, string reason) =>
        _replicaFallbacks.Add(1, new KeyValuePair<string, object?>("shard", BoxedShards[shard]), new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Shard numbers boxed once, so that tagging a read allocates nothing.</summary>
    private static readonly object[] BoxedShards = [.. Enumerable.Range(0, IdGenerator.LogicalShardCount).Select(i => (object)i)];

    public void IdCollision(string operation) => _idCollisions.Add(1, new KeyValuePair<string, object?>("operation", operation));

    /// <summary>The lag the watch last measured on each replica (no measurement while replication is stopped or the replica is down).</summary>
    public void ObserveReplicaLag(IReadOnlyList<ReplicaNode> replicas)
    {
        if (replicas.Count == 0)
        {
            return;
        }

        _meter.CreateObservableGauge(
            "ridebooking.replica.lag",
            () => replicas.Where(r => r.LagSeconds is not null).Select(r => new Measurement<double>(
                r.LagSeconds!.Value,
                new KeyValuePair<string, object?>("shard", r.Shard),
                new KeyValuePair<string, object?>("replica", r.Index),
                new KeyValuePair<string, object?>("in_rotation", r.Healthy))),
            "s",
            "Replication lag of each replica as last measured by the lag watch.");
    }

    public void Dispose() => _meter.Dispose();

    private readonly Histogram<double> _operationDuration;

    /// <summary>Gets a value indicating whether anybody listens to <c>ridebooking.operation.duration</c>.</summary>
    public bool OperationDurationEnabled => _operationDuration.Enabled;

    /// <summary>One public operation's duration; <paramref name="shard"/> is -1 when no single physical shard applies.</summary>
    public void OperationDuration(double seconds, string operation, string outcome, int shard)
    {
        if (!_operationDuration.Enabled)
        {
            return;
        }

        var tags = new System.Diagnostics.TagList
        {
            { "operation", operation },
            { "outcome", outcome },
        };
        if (shard >= 0)
        {
            tags.Add("shard", BoxedShards[shard]);
        }

        _operationDuration.Record(seconds, tags);
    }

    // The cache's instruments (created on first use, so a host without the cache publishes none of them).
    private readonly Lock _cacheInstrumentsGate = new();
    private Counter<long>? _cacheHits;
    private Counter<long>? _cacheMisses;
    private Counter<long>? _cacheFallbacks;

    /// <summary>A cached look-up served from memory or Redis; <paramref name="kind"/> is the entity kind ("user", "driver", "available_drivers").</summary>
    public void CacheHit(string kind) =>
        CacheCounter(ref _cacheHits, "ridebooking.cache.hits", "Cached look-ups served without a database read, by entity kind.")
            .Add(1, new KeyValuePair<string, object?>("kind", kind));

    /// <summary>A cached look-up that read the database.</summary>
    public void CacheMiss(string kind) =>
        CacheCounter(ref _cacheMisses, "ridebooking.cache.misses", "Cached look-ups that read the database, by entity kind.")
            .Add(1, new KeyValuePair<string, object?>("kind", kind));

    /// <summary>A Redis operation that failed or was skipped while Redis was failing; the caller was served from the database.</summary>
    public void CacheFallback(string kind, string reason) =>
        CacheCounter(ref _cacheFallbacks, "ridebooking.cache.fallbacks", "Redis operations of the cache that failed (reason error) or were skipped while Redis was failing (reason skipped); reads went to the database.")
            .Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("reason", reason));

    private Counter<long> CacheCounter(ref Counter<long>? counter, string name, string description)
    {
        if (Volatile.Read(ref counter) is { } existing)
        {
            return existing;
        }

        lock (_cacheInstrumentsGate)
        {
            return counter ??= _meter.CreateCounter<long>(name, "{operation}", description);
        }
    }
}
