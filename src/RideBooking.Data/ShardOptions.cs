namespace RideBooking.Data;

/// <summary>One physical shard: the primary server that takes its writes and the replicas that serve its reads.</summary>
/// <remarks>
/// Bound from configuration as <c>RideBooking:Shards:0:Primary</c> and <c>RideBooking:Shards:0:Replicas:0</c>, ...
/// Physical shard <c>i</c> is <c>RideBookingOptions.Shards[i]</c>; keep the order stable for the life of the data.
/// </remarks>
public sealed class ShardOptions
{
    /// <summary>Gets or sets the connection string of the shard's primary server (the database that holds the schema).</summary>
    /// <value>Required; there is no default.</value>
    public string? Primary { get; set; }

    /// <summary>Gets the connection strings of the shard's read replicas (GTID replication from <see cref="Primary"/>).</summary>
    /// <value>Zero or more; empty by default, in which case reads go to the primary.</value>
    public IList<string> Replicas { get; } = [];
}
