namespace RideBooking.Data.Internal;

/// <summary>
/// Time-ordered 64-bit ids: 41 bits of milliseconds since 2024-01-01 UTC, 10 bits of worker id,
/// 12 bits of sequence. Unique across processes as long as each process has its own worker id.
/// </summary>
internal sealed class IdGenerator
{
    internal const int MaxWorkerId = 1023;
    private const int SequenceBits = 12;
    private const int WorkerBits = 10;
    private const long SequenceMask = (1L << SequenceBits) - 1;
    private static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly TimeProvider _time;
    private readonly long _worker;
    private readonly Lock _gate = new();
    private long _lastMillis = -1;
    private long _sequence;

    public IdGenerator(TimeProvider time, int workerId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(workerId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(workerId, MaxWorkerId);
        _time = time;
        _worker = workerId;
    }

    public int WorkerId => (int)_worker;

    public long Next()
    {
        var now = (long)(_time.GetUtcNow() - Epoch).TotalMilliseconds;
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

            return (_lastMillis << (WorkerBits + SequenceBits)) | (_worker << SequenceBits) | _sequence;
        }
    }
}
