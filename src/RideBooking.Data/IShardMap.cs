namespace RideBooking.Data;

/// <summary>
/// Places logical shards on physical shards. The default follows the shard catalog (<c>shard_placements</c>, written by
/// <see cref="IShardMover"/>) and places a logical shard without a placement on
/// <c>logicalShard % </c><see cref="RideBookingOptions.BasePhysicalShardCount"/> (by default the number of physical shards);
/// register your own implementation as a singleton before <c>AddRideBookingData</c> to replace all of it.
/// </summary>
/// <remarks>
/// Changing where a logical shard lives without moving its rows first makes them unreachable: a custom
/// map must describe where the rows are.
/// </remarks>
public interface IShardMap
{
    /// <summary>Gets the physical shard that holds a logical shard.</summary>
    /// <param name="logicalShard">0 to <see cref="IShardResolver.LogicalShardCount"/> - 1.</param>
    /// <param name="physicalShardCount">The number of physical shards configured.</param>
    /// <returns>0 to <paramref name="physicalShardCount"/> - 1.</returns>
    int PhysicalShardOf(int logicalShard, int physicalShardCount);
}
