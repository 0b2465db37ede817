namespace RideBooking.Data;

/// <summary>
/// A physical shard did not answer: neither a replica nor the primary could serve the read. A query that fans out
/// over every shard throws this rather than return a partial answer.
/// </summary>
public sealed class ShardUnavailableException : RideBookingInfrastructureException
{
    /// <summary>Initializes a new instance of the <see cref="ShardUnavailableException"/> class.</summary>
    public ShardUnavailableException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ShardUnavailableException"/> class.</summary>
    /// <param name="message">What happened.</param>
    public ShardUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ShardUnavailableException"/> class.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The driver's error.</param>
    public ShardUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the physical shard that did not answer (an index into <see cref="RideBookingOptions.Shards"/>).</summary>
    public int PhysicalShard { get; init; } = -1;
}
