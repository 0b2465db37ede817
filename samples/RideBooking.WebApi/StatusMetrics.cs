using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using RideBooking.Data;

namespace RideBooking.WebApi;

/// <summary>What <c>/status/data</c> returns: the figures the status page shows.</summary>
public sealed record StatusSnapshot(
    DateTimeOffset Time,
    IReadOnlyList<ShardStatus> Shards,
    BookingStatus Bookings,
    RetryStatus Retries,
    CacheStatus Cache);

/// <summary>A physical shard and its replicas.</summary>
public sealed record ShardStatus(int Shard, IReadOnlyList<ReplicaStatus> Replicas);

/// <summary>A replica's lag as the library's lag watch last measured it (<see langword="null"/> when not measured).</summary>
public sealed record ReplicaStatus(int Replica, double? LagSeconds, bool? InRotation);

/// <summary>Bookings since the sample started, and per second over the last <see cref="StatusMetrics.RateWindowSeconds"/> seconds.</summary>
public sealed record BookingStatus(long Total, double PerSecond);

/// <summary>Transaction retries since the sample started, by reason.</summary>
public sealed record RetryStatus(long Total, IReadOnlyDictionary<string, long> ByReason);

/// <summary>Cache look-ups since the sample started; the hit ratio is <see langword="null"/> before the first look-up (cache off).</summary>
public sealed record CacheStatus(long Hits, long Misses, double? HitRatio);

/// <summary>
/// Listens to the library's meter (<see cref="RideBookingTelemetry.MeterName"/>) of this application's own
/// <see cref="IMeterFactory"/> (several applications in one process keep their figures apart) and keeps the figures of
/// the status page: <c>ridebooking.bookings</c>, <c>ridebooking.transaction.retries</c> by reason,
/// <c>ridebooking.replica.lag</c> (observed on each request) and, when the library has them, <c>ridebooking.cache.hits</c>
/// and <c>ridebooking.cache.misses</c>.
/// </summary>
internal sealed class StatusMetrics : IDisposable
{
    public const int RateWindowSeconds = 10;
    private const int Slots = 64;

    private readonly MeterListener _listener = new();
    private readonly IMeterFactory _meterFactory;
    private readonly IOptions<RideBookingOptions> _options;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly long[] _bookingsPerSecond = new long[Slots];
    private readonly long[] _slotSecond = new long[Slots];
    private readonly Dictionary<string, long> _retriesByReason = new(StringComparer.Ordinal);
    private readonly Dictionary<(int Shard, int Replica), (double Lag, bool? InRotation)> _lags = [];
    private long _bookings;
    private long _cacheHits;
    private long _cacheMisses;

    public StatusMetrics(IMeterFactory meterFactory, IOptions<RideBookingOptions> options, TimeProvider? time = null)
    {
        _meterFactory = meterFactory;
        _options = options;
        _time = time ?? TimeProvider.System;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RideBookingTelemetry.MeterName && ReferenceEquals(instrument.Meter.Scope, _meterFactory) && IsShown(instrument.Name))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.Start();
    }

    public StatusSnapshot Snapshot()
    {
        lock (_gate)
        {
            _lags.Clear();
        }

        _listener.RecordObservableInstruments(); // the lag gauge reports into _lags

        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var second = now.ToUnixTimeSeconds();
            long recent = 0;
            for (var s = second - RateWindowSeconds + 1; s <= second; s++)
            {
                var slot = (int)(s % Slots);
                if (_slotSecond[slot] == s)
                {
                    recent += _bookingsPerSecond[slot];
                }
            }

            var lookups = _cacheHits + _cacheMisses;
            return new StatusSnapshot(
                now,
                Shards(),
                new BookingStatus(_bookings, (double)recent / RateWindowSeconds),
                new RetryStatus(_retriesByReason.Values.Sum(), new SortedDictionary<string, long>(_retriesByReason, StringComparer.Ordinal)),
                new CacheStatus(_cacheHits, _cacheMisses, lookups == 0 ? null : (double)_cacheHits / lookups));
        }
    }

    public void Dispose() => _listener.Dispose();

    private static bool IsShown(string name) => name is "ridebooking.bookings" or "ridebooking.transaction.retries" or "ridebooking.replica.lag"
        or "ridebooking.cache.hits" or "ridebooking.cache.misses";

    /// <summary>The configured shards (one when only a connection string is set) with their replicas and the lags observed.</summary>
    private List<ShardStatus> Shards()
    {
        var options = _options.Value;
        var replicaCounts = options.Shards.Count > 0 ? options.Shards.Select(s => s.Replicas.Count).ToList() : [0];
        return [.. replicaCounts.Select((count, shard) => new ShardStatus(shard, [.. Enumerable.Range(0, count).Select(replica =>
            _lags.TryGetValue((shard, replica), out var lag) ? new ReplicaStatus(replica, lag.Lag, lag.InRotation) : new ReplicaStatus(replica, null, null))]))];
    }

    private void Record<T>(string instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct
    {
        var number = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
        lock (_gate)
        {
            switch (instrument)
            {
                case "ridebooking.bookings":
                    var count = (long)number;
                    _bookings += count;
                    var second = _time.GetUtcNow().ToUnixTimeSeconds();
                    var slot = (int)(second % Slots);
                    if (_slotSecond[slot] != second)
                    {
                        _slotSecond[slot] = second;
                        _bookingsPerSecond[slot] = 0;
                    }

                    _bookingsPerSecond[slot] += count;
                    break;
                case "ridebooking.transaction.retries":
                    var reason = Tag(tags, "reason")?.ToString() ?? "unknown";
                    _retriesByReason[reason] = _retriesByReason.GetValueOrDefault(reason) + (long)number;
                    break;
                case "ridebooking.replica.lag":
                    if (Tag(tags, "shard") is { } shard && Tag(tags, "replica") is { } replica)
                    {
                        var inRotation = Tag(tags, "in_rotation") as bool?;
                        _lags[(Convert.ToInt32(shard, System.Globalization.CultureInfo.InvariantCulture), Convert.ToInt32(replica, System.Globalization.CultureInfo.InvariantCulture))] = (number, inRotation);
                    }

                    break;
                case "ridebooking.cache.hits":
                    _cacheHits += (long)number;
                    break;
                case "ridebooking.cache.misses":
                    _cacheMisses += (long)number;
                    break;
            }
        }
    }

    private static object? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value;
            }
        }

        return null;
    }
}
