namespace RideBooking.Data.Internal;

/// <summary>
/// The default shard map: the placements of the catalog (<c>shard_placements</c>, see <see cref="IShardMover"/>), and for a
/// logical shard without one, logical shard modulo <see cref="RideBookingOptions.BasePhysicalShardCount"/> (by default the
/// number of physical shards).
/// </summary>
internal sealed class ModuloShardMap(ShardPlacements? placements = null) : IShardMap
{
    /// <summary>Gets the placements this map follows (<see langword="null"/>: plain modulo).</summary>
    internal ShardPlacements? Placements { get; } = placements;

    public int PhysicalShardOf(int logicalShard, int physicalShardCount) =>
        Placements?.PhysicalShardOf(logicalShard) ?? logicalShard % physicalShardCount;
}

/// <summary>Reads the logical shard from an id's low byte and places it with the shard map.</summary>
internal sealed class ShardResolver(RideBookingDataSource dataSource, IShardMap map) : IShardResolver
{
    public int LogicalShardCount => IdGenerator.LogicalShardCount;

    public int PhysicalShardCount => dataSource.Shards.Length;

    /// <summary>Gets the placements when the map is the default one (moves need it).</summary>
    internal ShardPlacements? Placements => (map as ModuloShardMap)?.Placements;

    public int LogicalShardOf(long id)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(id);
        return IdGenerator.LogicalShardOf(id);
    }

    /// <summary>The library's own routing: also notes the logical shard for the write fence (<see cref="LogicalShardTrail"/>).</summary>
    public int PhysicalShardOf(long id) => PhysicalShardOfLogical(LogicalShardOf(id));

    // A host asking where a row is routes nothing: leave the trail alone.
    int IShardResolver.PhysicalShardOf(long id) => Place(LogicalShardOf(id));

    public int PhysicalShardOfLogical(int logicalShard)
    {
        var physical = Place(logicalShard);
        LogicalShardTrail.Note(logicalShard);
        return physical;
    }

    /// <summary>
    /// The physical shard of an id for telemetry: never throws, never waits for the catalog, notes nothing for the write
    /// fence; -1 for an id that is not valid or while the placements are not loaded yet.
    /// </summary>
    public int PhysicalShardForTelemetry(long id)
    {
        var count = dataSource.Shards.Length;
        if (id <= 0)
        {
            return -1;
        }

        if (count == 1)
        {
            return 0;
        }

        var logical = IdGenerator.LogicalShardOf(id);
        if (map is ModuloShardMap { Placements: { } placements })
        {
            return placements.TryPhysicalShardOf(logical, out var placed) && (uint)placed < (uint)count ? placed : -1;
        }

        try
        {
            var physical = map.PhysicalShardOf(logical, count);
            return (uint)physical < (uint)count ? physical : -1;
        }
#pragma warning disable CA1031 // A host's own map that fails is reported by the operation itself, not by its telemetry.
        catch (Exception)
#pragma warning restore CA1031
        {
            return -1;
        }
    }

    private int Place(int logicalShard)
    {
        var count = dataSource.Shards.Length;
        if (count == 1)
        {
            return 0;
        }

        var physical = map.PhysicalShardOf(logicalShard, count);
        if ((uint)physical >= (uint)count)
        {
            throw new InvalidOperationException($"The shard map placed logical shard {logicalShard} on physical shard {physical}, but only {count} are configured.");
        }

        return physical;
    }
}
