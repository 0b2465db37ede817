namespace RideBooking.Data;

/// <summary>
/// A write was refused because a logical shard it touches is being moved to another physical shard
/// (see <see cref="IShardMover"/>). Nothing was written; the same call succeeds once the move has finished,
/// so <see cref="RideBookingInfrastructureException.IsTransient"/> is <see langword="true"/>.
/// </summary>
public sealed class LogicalShardMovingException : RideBookingInfrastructureException
{
    /// <summary>Initializes a new instance of the <see cref="LogicalShardMovingException"/> class.</summary>
    public LogicalShardMovingException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="LogicalShardMovingException"/> class.</summary>
    /// <param name="message">What happened.</param>
    public LogicalShardMovingException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="LogicalShardMovingException"/> class.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public LogicalShardMovingException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the logical shard that is moving (0 to 255).</summary>
    public int LogicalShard { get; init; } = -1;
}
