using MySqlConnector;

namespace RideBooking.Data.Internal;

internal sealed class RideRepository(ShardReader reader, ShardResolver shards) : IRideRepository
{
    internal const int MaxLatestLimit = 100;
    internal const int MaxTop = 1000;

    internal const string RideColumns = "id AS Id, user_id AS UserId, driver_id AS DriverId, status AS Status, fare AS Fare, created_at AS CreatedAt, updated_at AS UpdatedAt";

    internal const string RideById = $"SELECT {RideColumns} FROM rides WHERE id = @Id";

    /// <summary>Reads ix_rides_user_created (user_id, created_at DESC, id DESC) in index order: no filesort.</summary>
    internal const string LatestRidesForUser = $"""
        SELECT {RideColumns}
        FROM rides WHERE user_id = @UserId
        ORDER BY created_at DESC, id DESC
        LIMIT @Limit
        """;

    /// <summary>Reads the rollup by primary key; rides are not touched.</summary>
    internal const string EarningsPerDriver = """
        SELECT driver_id AS DriverId, total_earnings AS TotalEarnings
        FROM driver_earnings
        ORDER BY driver_id
        """;

    /// <summary>
    /// The earnings of the driver in place <c>top</c> (or 0 when fewer drivers have earnings), read from
    /// the top of ix_driver_earnings_total. Every driver ranked <c>top</c> or better, ties included, earns
    /// at least this much, and every driver who earns at least this much is ranked <c>top</c> or better.
    /// </summary>
    internal const string TopDriversThreshold = """
        COALESCE((SELECT total_earnings FROM driver_earnings ORDER BY total_earnings DESC LIMIT 1 OFFSET @Skip), 0)
        """;

    /// <summary>
    /// RANK() over the drivers that earn at least the threshold: a range of ix_driver_earnings_total,
    /// not the whole rollup. The ranks equal those over all drivers because everyone who earns more is
    /// inside the range. The threshold is a subquery of the same statement, so both read one snapshot:
    /// a driver overtaking the others between two statements could otherwise be ranked below <c>top</c>
    /// or push a driver of the top out of the answer.
    /// </summary>
    internal const string TopDrivers = $"""
        SELECT driver_id AS DriverId, total_earnings AS Earnings,
               CAST(RANK() OVER (ORDER BY total_earnings DESC) AS SIGNED) AS `Rank`
        FROM driver_earnings
        WHERE total_earnings >= {TopDriversThreshold}
        ORDER BY `Rank`, DriverId
        """;

    private static readonly Func<MySqlDataReader, CancellationToken, Task<Ride?>> ReadRide = static (r, ct) => r.ReadSingleOrDefaultAsync(Rows.Ride, ct);
    private static readonly Func<MySqlDataReader, CancellationToken, Task<List<Ride>>> ReadRides = static (r, ct) => r.ReadListAsync(Rows.Ride, ct);
    private static readonly Func<MySqlDataReader, CancellationToken, Task<List<DriverEarnings>>> ReadEarnings = static (r, ct) => r.ReadListAsync(Rows.DriverEarnings, ct);
    private static readonly Func<MySqlDataReader, CancellationToken, Task<List<RankedDriver>>> ReadRanked = static (r, ct) => r.ReadListAsync(Rows.RankedDriver, ct);

    public Task<Ride?> GetAsync(long rideId, CancellationToken ct = default)
    {
        Guard.Id(rideId, nameof(rideId));
        return reader.ReadAsync("GetRide", shards.PhysicalShardOf(rideId), new MySqlCommand(RideById).With("@Id", rideId), ReadRide, ct);
    }

    public async Task<IReadOnlyList<Ride>> GetLatestForUserAsync(long userId, int limit, CancellationToken ct = default)
    {
        Guard.Id(userId, nameof(userId));
        Guard.Limit(limit, MaxLatestLimit, nameof(limit));
        return await reader.ReadAsync("GetLatestRidesForUser", shards.PhysicalShardOf(userId), new MySqlCommand(LatestRidesForUser).With("@UserId", userId).With("@Limit", limit), ReadRides, ct).ConfigureAwait(false);
    }

    /// <summary>A driver's rollup row lives on the driver's shard only, so the shards' lists are disjoint: merged by driver id.</summary>
    public async Task<IReadOnlyList<DriverEarnings>> GetDriverEarningsAsync(CancellationToken ct = default)
    {
        var perShard = await reader.FanOutAsync("GetDriverEarnings", static () => new MySqlCommand(EarningsPerDriver), ReadEarnings, ct).ConfigureAwait(false);
        return perShard.Length == 1 ? perShard[0] : [.. perShard.SelectMany((rows, shard) => rows.Where(row => Placed(row.DriverId, shard))).OrderBy(row => row.DriverId)];
    }

    /// <summary>
    /// Each shard answers its own top <paramref name="top"/> with ties; the merge ranks their union again. That is exact:
    /// a driver ranked at most <paramref name="top"/> overall is ranked at most that on its shard, and every driver who
    /// earns more than it is ranked better on their own shard, so is in the union too.
    /// </summary>
    public async Task<IReadOnlyList<RankedDriver>> GetTopDriversAsync(int top, CancellationToken ct = default)
    {
        Guard.Limit(top, MaxTop, nameof(top));
        var perShard = await reader.FanOutAsync("GetTopDrivers", () => new MySqlCommand(TopDrivers).With("@Skip", top - 1), ReadRanked, ct).ConfigureAwait(false);
        return perShard.Length == 1 ? perShard[0] : MergeRanks(perShard.SelectMany((rows, shard) => rows.Where(row => Placed(row.DriverId, shard))), top);
    }

    /// <summary>
    /// Whether a row read from a physical shard is that shard's to answer: while a logical shard moves, its rows are on
    /// two servers (copied, or not yet deleted), and only the copy its placement names counts.
    /// </summary>
    private bool Placed(long driverId, int shard) => ((IShardResolver)shards).PhysicalShardOf(driverId) == shard;

    /// <summary>RANK() by earnings over the union of the shards' candidates: one plus the number that earn strictly more.</summary>
    internal static List<RankedDriver> MergeRanks(IEnumerable<RankedDriver> candidates, int top)
    {
        var ordered = candidates.OrderByDescending(d => d.Earnings).ThenBy(d => d.DriverId).ToList();
        var ranked = new List<RankedDriver>(Math.Min(ordered.Count, top + 16));
        for (var i = 0; i < ordered.Count; i++)
        {
            var rank = i > 0 && ordered[i].Earnings == ordered[i - 1].Earnings ? ranked[i - 1].Rank : i + 1;
            if (rank > top)
            {
                break;
            }

            ranked.Add(ordered[i] with { Rank = rank });
        }

        return ranked;
    }
}
