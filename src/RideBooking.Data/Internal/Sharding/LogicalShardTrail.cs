namespace RideBooking.Data.Internal;

/// <summary>
/// The logical shards a write has routed by, so that <see cref="TransactionRunner"/> can refuse a unit that touches a
/// moving logical shard without every caller passing them. <see cref="ShardResolver"/> notes each logical shard it places
/// (a booking notes the user's and the driver's); the runner takes what was noted before it started and keeps noting
/// inside the unit (a completion notes the ride's driver once it has read the ride); a read clears what its own routing noted.
/// A unit with nothing noted (settling a payment by transaction id, the earnings rebuild) is treated as touching every
/// logical shard of its physical shard.
/// </summary>
internal static class LogicalShardTrail
{
    private static readonly AsyncLocal<Trail?> Current = new();

    /// <summary>Notes a logical shard that the current flow routes by.</summary>
    public static void Note(int logicalShard)
    {
        var trail = Current.Value;
        if (trail is null)
        {
            trail = new Trail();
            Current.Value = trail;
        }

        trail.Add(logicalShard);
    }

    /// <summary>Takes (and forgets) what the current flow has noted.</summary>
    public static int[] Take() => Current.Value?.TakeAll() ?? [];

    /// <summary>Starts the trail of a unit of work (in the runner's own async frame), seeded with what the caller noted.</summary>
    public static Trail BeginUnit()
    {
        var trail = new Trail(Take());
        Current.Value = trail;
        return trail;
    }

    internal sealed class Trail
    {
        private readonly Lock _lock = new();
        private readonly List<int> _shards;

        public Trail(int[]? seed = null) => _shards = seed is null ? [] : [.. seed];

        public void Add(int logicalShard)
        {
            lock (_lock)
            {
                if (!_shards.Contains(logicalShard))
                {
                    _shards.Add(logicalShard);
                }
            }
        }

        public int[] Snapshot()
        {
            lock (_lock)
            {
                return [.. _shards];
            }
        }

        public int[] TakeAll()
        {
            lock (_lock)
            {
                var all = _shards.ToArray();
                _shards.Clear();
                return all;
            }
        }
    }
}
