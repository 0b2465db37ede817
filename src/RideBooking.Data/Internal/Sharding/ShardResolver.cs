namespace RideBooking.Data.Internal;

/// <summary>The default shard map: logical shard modulo the number of physical shards.</summary>
internal sealed class ModuloShardMap : IShardMap
{
    public int PhysicalShardOf(int logicalShard, int physicalShardCount) => logicalShard % physicalShardCount;
}

/// <summary>Reads the logical shard from an id's low byte and places it with the shard map.</summary>
internal sealed class ShardResolver(RideBookingDataSource dataSource, IShardMap map) : IShardResolver
{
    public int LogicalShardCount => IdGenerator.LogicalShardCount;

    public int PhysicalShardCount => dataSource.Shards.Length;

    public int LogicalShardOf(long id)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(id);
        return IdGenerator.LogicalShardOf(id);
    }

    public int PhysicalShardOf(long id) => PhysicalShardOfLogical(LogicalShardOf(id));

    public int PhysicalShardOfLogical(int logicalShard)
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
