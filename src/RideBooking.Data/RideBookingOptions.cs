namespace RideBooking.Data;

/// <summary>Settings of the RideBooking.Data services, bound from the <c>RideBooking</c> configuration section or set in code.</summary>
public sealed class RideBookingOptions
{
    /// <summary>
    /// Gets or sets the MySQL/MariaDB connection string of the database that holds the schema: the one-shard
    /// topology. Set either this or <see cref="Shards"/>, not both.
    /// </summary>
    /// <value>Required unless <see cref="Shards"/> is given; there is no default.</value>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Gets the physical shards, each with its primary and replicas. Physical shard <c>i</c> is <c>Shards[i]</c>.
    /// Set either this or <see cref="ConnectionString"/>, not both.
    /// </summary>
    /// <value>Empty by default (the one-shard topology of <see cref="ConnectionString"/>); at most 256 shards.</value>
    public IList<ShardOptions> Shards { get; } = [];

    /// <summary>Gets or sets the replication lag above which a replica gets no reads until it has caught up.</summary>
    /// <value>More than 0, at most 1 hour. The default is 5 seconds. Lag is measured in whole seconds (<c>Seconds_Behind_Master</c>).</value>
    public TimeSpan MaxReplicaLag { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long a replica read waits, on the replica, for the caller's own earlier writes to arrive
    /// before it is sent to the primary instead.
    /// </summary>
    /// <value>0 to 30 seconds. The default is 500 milliseconds.</value>
    public TimeSpan ReplicaWaitTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets how often each replica's replication state and lag are checked.</summary>
    /// <value>10 milliseconds to 1 minute. The default is 1 second.</value>
    public TimeSpan ReplicaCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how many times a transaction is retried after a deadlock or lock wait timeout.</summary>
    /// <value>0 to 10. The default is 3.</value>
    public int MaxTransactionRetries { get; set; } = 3;

    /// <summary>Gets or sets the delay before the first retry; each later retry doubles it, with random jitter.</summary>
    /// <value>0 to 10 seconds. The default is 20 milliseconds.</value>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Gets or sets this process's worker id for id generation. Every process writing to the same
    /// database must use a different value to guarantee unique ids.
    /// </summary>
    /// <value>0 to 1023, or <see langword="null"/> to pick one at random at start-up. The default is <see langword="null"/>.</value>
    public int? WorkerId { get; set; }

    /// <summary>
    /// Gets or sets how old interrupted cross-shard work must be before <see cref="IRideBookingRecovery"/> repairs it.
    /// Longer than any operation can take; every process's clock must be within this of the others'.
    /// </summary>
    /// <value>1 second to 1 day. The default is 1 minute.</value>
    public TimeSpan RecoveryGracePeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets how often a host runs the recovery pass in the background (a hosted service registered by
    /// <c>AddRideBookingData</c>); <see langword="null"/> runs none.
    /// </summary>
    /// <value>1 second to 1 day, or <see langword="null"/>. The default is <see langword="null"/>.</value>
    public TimeSpan? RecoveryInterval { get; set; }

    /// <summary>
    /// Gets or sets the number of physical shards that logical shards without a placement (a row of <c>shard_placements</c>
    /// in physical shard 0's database) live on: logical shard <c>l</c> is on <c>l % BasePhysicalShardCount</c>. Set it to the
    /// old number of shards when adding servers, so that nothing moves until <see cref="IShardMover"/> moves it.
    /// </summary>
    /// <value>1 to the number of <see cref="Shards"/>, or <see langword="null"/> for all of them. The default is <see langword="null"/>.</value>
    public int? BasePhysicalShardCount { get; set; }

    /// <summary>
    /// Gets or sets how often every process reloads the placements of the logical shards from the catalog (physical shard 0).
    /// A move waits two of these intervals after each change, so every process has seen it.
    /// </summary>
    /// <value>10 milliseconds to 1 minute. The default is 1 second.</value>
    public TimeSpan PlacementRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how long a write whose COMMIT was in flight when the connection failed waits for the server to answer
    /// again, to learn (by its idempotency key) whether it was stored. When the outcome is still unknown after this time,
    /// the call fails with <see cref="CommitOutcomeUnknownException"/>, which names the key that resolves it.
    /// </summary>
    /// <value>0 to 10 minutes. The default is 30 seconds (a server restart usually takes less).</value>
    public TimeSpan UnknownOutcomeWaitTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
