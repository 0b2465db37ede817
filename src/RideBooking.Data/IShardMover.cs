namespace RideBooking.Data;

/// <summary>
/// Moves logical shards between physical shards (resharding) with the placements kept in the catalog
/// (<c>shard_placements</c> on physical shard 0). While a logical shard moves, writes to it are refused with
/// <see cref="LogicalShardMovingException"/> and reads still go to its old physical shard. See "Resharding" in the README.
/// </summary>
/// <remarks>
/// A move is idempotent: when it fails or the process dies part-way, calling it again with the same arguments finishes it.
/// Only the default shard map follows the catalog; with a custom <see cref="IShardMap"/> registered, moves are refused.
/// </remarks>
public interface IShardMover
{
    /// <summary>
    /// Moves one logical shard to a physical shard: marks it moving, waits until every process has seen that, copies its
    /// rows of every table in batches, verifies them (count and checksum per table), places it on the target, waits again,
    /// then deletes the rows from the old physical shard.
    /// </summary>
    /// <param name="logicalShard">0 to 255.</param>
    /// <param name="targetPhysicalShard">An index into <see cref="RideBookingOptions.Shards"/>.</param>
    /// <param name="cancellationToken">Stops the move between batches; call again to finish it.</param>
    /// <returns>What was moved.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A shard number is out of range.</exception>
    /// <exception cref="InvalidOperationException">The logical shard is moving to another physical shard, a custom shard map is registered, or the copy did not verify.</exception>
    Task<ShardMoveResult> MoveAsync(int logicalShard, int targetPhysicalShard, CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves several logical shards to one physical shard together: one wait for all of them after marking them moving and
    /// one after placing them, so moving many logical shards costs little more than moving one. Writes to every one of them
    /// are refused from the first step until all are placed.
    /// </summary>
    /// <param name="logicalShards">Distinct logical shards, 0 to 255 each; some may already be on the target.</param>
    /// <param name="targetPhysicalShard">An index into <see cref="RideBookingOptions.Shards"/>.</param>
    /// <param name="cancellationToken">Stops the move between batches; call again to finish it.</param>
    /// <returns>What was moved, all logical shards together.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A shard number is out of range.</exception>
    /// <exception cref="InvalidOperationException">A logical shard is moving to another physical shard, a custom shard map is registered, or a copy did not verify.</exception>
    Task<ShardMoveResult> MoveManyAsync(IReadOnlyCollection<int> logicalShards, int targetPhysicalShard, CancellationToken cancellationToken = default);
}
