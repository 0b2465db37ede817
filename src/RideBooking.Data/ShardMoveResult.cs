namespace RideBooking.Data;

/// <summary>What a move did.</summary>
/// <param name="LogicalShards">The logical shards now placed on the target.</param>
/// <param name="TargetPhysicalShard">Where they are now.</param>
/// <param name="RowsCopied">The rows written to the target (all tables; a re-run copies again what was already there).</param>
/// <param name="RowsDeleted">The rows deleted from the old physical shards.</param>
/// <param name="Elapsed">How long the move took, waits included.</param>
public sealed record ShardMoveResult(IReadOnlyList<int> LogicalShards, int TargetPhysicalShard, long RowsCopied, long RowsDeleted, TimeSpan Elapsed);
