namespace RideBooking.Data.Internal;

/// <summary>The instrumentation layer of <see cref="IShardMover"/>: the shard tag is the target physical shard.</summary>
internal sealed class InstrumentedShardMover(IShardMover inner, OperationTelemetry telemetry) : IShardMover
{
    public Task<ShardMoveResult> MoveAsync(int logicalShard, int targetPhysicalShard, CancellationToken cancellationToken = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync(
                "MoveLogicalShard",
                (inner, logicalShard, targetPhysicalShard),
                static (s, t) => s.inner.MoveAsync(s.logicalShard, s.targetPhysicalShard, t),
                static (_, s, _) => TargetTag(s.targetPhysicalShard),
                cancellationToken,
                static (_, activity, s, result) =>
                {
                    activity.SetTag("logical_shard", s.logicalShard);
                    activity.SetTag("rows_copied", result.RowsCopied);
                })
            : inner.MoveAsync(logicalShard, targetPhysicalShard, cancellationToken);

    public Task<ShardMoveResult> MoveManyAsync(IReadOnlyCollection<int> logicalShards, int targetPhysicalShard, CancellationToken cancellationToken = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync(
                "MoveLogicalShards",
                (inner, logicalShards, targetPhysicalShard),
                static (s, t) => s.inner.MoveManyAsync(s.logicalShards, s.targetPhysicalShard, t),
                static (_, s, _) => TargetTag(s.targetPhysicalShard),
                cancellationToken,
                static (_, activity, _, result) =>
                {
                    activity.SetTag("logical_shards", result.LogicalShards.Count);
                    activity.SetTag("rows_copied", result.RowsCopied);
                })
            : inner.MoveManyAsync(logicalShards, targetPhysicalShard, cancellationToken);

    /// <summary>A target out of range is refused by the mover; it gets no shard tag.</summary>
    private static int TargetTag(int target) => target is >= 0 and < IdGenerator.LogicalShardCount ? target : -1;
}
