namespace RideBooking.Data;

/// <summary>
/// Read-your-writes across processes. Within one process every replica read already waits for the writes this
/// process made (by GTID, in the read's own round trip) and falls back to the primary after
/// <see cref="RideBookingOptions.ReplicaWaitTimeout"/>; no code is needed for that. To carry the guarantee to another
/// process (for example from the instance that booked a ride to the instance that serves the next request),
/// send <see cref="CaptureToken"/> along (an HTTP header is a good place) and wrap the reads there in <see cref="RequireToken"/>.
/// </summary>
public interface IReadYourWrites
{
    /// <summary>Gets a token naming every write this process has made so far on every shard that has replicas.</summary>
    /// <returns>A short ASCII string safe for an HTTP header; empty when there is nothing to wait for.</returns>
    string CaptureToken();

    /// <summary>
    /// Until the returned scope is disposed, reads in the current asynchronous flow also see the writes named by
    /// <paramref name="token"/> (a token from <see cref="CaptureToken"/> of any process with the same shards).
    /// </summary>
    /// <param name="token">A token from <see cref="CaptureToken"/>; empty or <see langword="null"/> requires nothing.</param>
    /// <returns>A scope that restores the previous requirement when disposed.</returns>
    /// <exception cref="ArgumentException"><paramref name="token"/> is not a token of this library.</exception>
    IDisposable RequireToken(string? token);
}
