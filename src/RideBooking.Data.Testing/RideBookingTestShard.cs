using RideBooking.Data.Testing.Internal;

namespace RideBooking.Data.Testing;

/// <summary>One shard of a <see cref="RideBookingTestCluster"/>: connection strings naming the cluster's database.</summary>
/// <param name="Primary">The connection string of the shard's primary.</param>
/// <param name="Replicas">The connection strings of the shard's replicas, which replicate from <paramref name="Primary"/>.</param>
public sealed record RideBookingTestShard(string Primary, IReadOnlyList<string> Replicas)
{
    /// <summary>Returns the endpoints of the shard's servers, without credentials.</summary>
    /// <returns>For example "primary 127.0.0.1:40123, replicas 127.0.0.1:40125".</returns>
    public override string ToString() => $"primary {Sql.Endpoint(Primary)}, replicas {string.Join(", ", Replicas.Select(Sql.Endpoint))}";
}
