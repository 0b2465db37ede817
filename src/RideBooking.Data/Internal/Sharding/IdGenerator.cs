namespace RideBooking.Data.Internal;

/// <summary>
/// Time-ordered 64-bit ids that carry their logical shard:
/// <code>
/// bit 63      62 .. 22                   21 .. 18    17 .. 8       7 .. 0
///  0 | milliseconds since 2024-01-01 | sequence | worker id | logical shard
///      (41 bits, until 2093)           (4 bits)   (10 bits)   (8 bits, 256 shards)
/// </code>
/// The logical shard sits in the low byte, so <c>id &amp; 255</c> names it and, with the default map,
/// <c>id % physicalShards</c> names the physical shard (for 4 shards, the brief's <c>user_id % 4</c>).
/// Ids of one generator strictly increase. Two processes that share a worker id can produce the same id
/// only in the same millisecond, for the same logical shard, at the same sequence number; the id then
/// collides in the same table on the same shard, whose primary key refuses it, and the library retries
/// with a fresh id (see the repositories), so a collision is detected instead of silently merged.
/// </summary>
internal sealed class IdGenerator
{
    internal const int MaxWorkerId = 1023;
    internal const int LogicalShardCount = 256;
    private const int ShardBits = 8;
    private const int WorkerBits = 10;
    private const int SequenceBits = 4;
    private const int WorkerShift = ShardBits;
    private const int SequenceShift = ShardBits + WorkerBits;
    private const int TimeShift = ShardBits + WorkerBits + SequenceBits;
    private const long SequenceMask = (1L << SequenceBits) - 1;
    private const long ShardMask = LogicalShardCount - 1;
    private static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly TimeProvider _time;
    private readonly long _worker;
    private readonly Lock _gate = new();
    private long _lastMillis = -1;
    private long _sequence;
    private int _nextShard;

    public IdGenerator(TimeProvider time, int workerId, int? firstSpreadShard = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(workerId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(workerId, MaxWorkerId);
        _time = time;
        _worker = workerId;
        // Each process starts its round robin at its own place, so small processes do not all favour shard 0.
        _nextShard = (firstSpreadShard ?? Random.Shared.Next(LogicalShardCount)) - 1;
    }

    public int WorkerId => (int)_worker;

    /// <summary>The logical shard an id carries.</summary>
    public static int LogicalShardOf(long id) => (int)(id & ShardMask);

    /// <summary>The next logical shard for a new user or driver: round robin, so new rows spread evenly.</summary>
    public int NextSpreadShard() => (int)((uint)Interlocked.Increment(ref _nextShard) % LogicalShardCount);

    /// <summary>A new id on the next logical shard of the round robin (for new users and drivers).</summary>
    public long Next() => Next(NextSpreadShard());

    /// <summary>A new id that carries <paramref name="logicalShard"/> (rides and payments take their user's).</summary>
    public long Next(int logicalShard)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(logicalShard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(logicalShard, LogicalShardCount);
        var now = (long)(_time.GetUtcNow() - Epoch).TotalMilliseconds;
        long millis, sequence;
        lock (_gate)
        {
            if (now > _lastMillis)
            {
                _lastMillis = now;
                _sequence = 0;
            }
            else if (++_sequence > SequenceMask)
            {
                // Sequence exhausted within this millisecond (or the clock went back): borrow the next
                // millisecond rather than wait, so ids stay unique and increasing.
                _lastMillis++;
                _sequence = 0;
            }

            millis = _lastMillis;
            sequence = _sequence;
        }

        return (millis << TimeShift) | (sequence << SequenceShift) | (_worker << WorkerShift) | (long)logicalShard;
    }
}
