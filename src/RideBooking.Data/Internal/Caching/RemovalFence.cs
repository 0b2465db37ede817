using System.Collections.Concurrent;

namespace RideBooking.Data.Internal;

/// <summary>
/// Keeps this instance's removals from being undone by its own cache writes. HybridCache writes a loaded value to Redis
/// in the background, after it has handed the value to its callers: a caller that reads, writes and reads again could
/// otherwise see its removal overtaken by the write of the value it read first. Every removal advances a generation (per
/// stripe of keys); a load remembers the generation it started under, a value loaded across a removal is not cached,
/// and a Redis write of a value loaded before a removal is skipped, or followed by a removal of its own when the removal
/// came while it was in flight. A stripe shared by two keys only costs a skipped cache write.
/// </summary>
internal sealed class RemovalFence
{
    private const int Stripes = 4096;

    private readonly long[] _generations = new long[Stripes];
    private readonly ConcurrentDictionary<string, long> _loaded = new(StringComparer.Ordinal);

    /// <summary>Called before a key is removed: loads started earlier are no longer current.</summary>
    public void Removing(string key) => Interlocked.Increment(ref _generations[Stripe(key)]);

    /// <summary>The generation a load of <paramref name="key"/> starts under.</summary>
    public long Current(string key) => Volatile.Read(ref _generations[Stripe(key)]);

    /// <summary>
    /// After a load that started under <paramref name="generation"/>: false when a removal came meanwhile (the value must
    /// not be cached); otherwise remembers the generation for the Redis write that follows.
    /// </summary>
    public bool Loaded(string key, long generation)
    {
        if (Current(key) != generation)
        {
            return false;
        }

        _loaded[key] = generation;
        return true;
    }

    /// <summary>
    /// Before the Redis write of <paramref name="key"/>: the generation its value was loaded under, or
    /// <see langword="null"/> when a removal came since (the write is skipped).
    /// </summary>
    public long? BeginWrite(string key) =>
        _loaded.TryRemove(key, out var generation) && Current(key) == generation ? generation : null;

    /// <summary>After the Redis write: true when a removal came while it was in flight (the key must be removed again).</summary>
    public bool OvertakenDuringWrite(string key, long generation) => Current(key) != generation;

    private static int Stripe(string key) => (int)((uint)StringComparer.Ordinal.GetHashCode(key) % Stripes);
}
