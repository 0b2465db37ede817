namespace RideBooking.Data;

/// <summary>
/// Repairs work that a process left half done when it died between two shards: a driver held for a booking whose
/// ride never came, a completed or cancelled ride whose driver was not released yet, a claimed phone number or
/// transaction id whose row never came. Only work older than <see cref="RideBookingOptions.RecoveryGracePeriod"/> is
/// touched, so operations still in flight finish on their own.
/// </summary>
/// <remarks>
/// Safe to run from several processes at once, and as often as wanted: every repair is decided by a unique key on
/// the shard that owns the operation, so two passes never both apply it. Set
/// <see cref="RideBookingOptions.RecoveryInterval"/> to run it in the background of a host.
/// </remarks>
public interface IRideBookingRecovery
{
    /// <summary>Runs one pass over every shard.</summary>
    /// <param name="cancellationToken">Cancels the pass; repairs already made stay made.</param>
    /// <returns>The number of repairs made (0 when nothing was interrupted).</returns>
    Task<int> RunAsync(CancellationToken cancellationToken = default);
}
