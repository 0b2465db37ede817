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

    /// <summary>
    /// The page after a cursor: the range of ix_rides_user_created that starts just after (created_at, id), read in index
    /// order. <c>created_at &lt;= @CreatedAt</c> bounds the range; the OR drops the rides of the same instant up to the cursor.
    /// </summary>
    internal const string RidesPageForUser = $"""
        SELECT {RideColumns}
        FROM rides WHERE user_id = @UserId
          AND created_at <= @CreatedAt AND (created_at < @CreatedAt OR id < @Id)
        ORDER BY created_at DESC, id DESC
        LIMIT @Limit
        """;

    /// <summary>The user's active ride through uq_rides_active_user (one index entry at most).</summary>
    internal const string CurrentRideForUser = $"SELECT {RideColumns} FROM rides WHERE active_user_id = @UserId";

    /// <summary>The driver's active ride on this shard through uq_rides_active_driver (one index entry at most).</summary>
    internal const string CurrentRideForDriver = $"SELECT {RideColumns} FROM rides WHERE active_driver_id = @DriverId";

    /// <summary>
    /// On the driver's shard, in one round trip: the driver's active ride stored there, then the ride that holds the
    /// driver across shards (driver_holds, by primary key) and whether the driver is available (by primary key).
    /// </summary>
    internal const string CurrentRideAndHoldForDriver = $"""
        {CurrentRideForDriver};
        SELECT (SELECT ride_id FROM driver_holds WHERE driver_id = @DriverId) AS HeldFor,
               (SELECT available FROM drivers WHERE id = @DriverId) AS Available
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
    private static readonly Func<MySqlDataReader, CancellationToken, Task<DriverLookup>> ReadDriverLookup = static async (r, ct) =>
    {
        var local = await r.ReadListAsync(Rows.Ride, ct).ConfigureAwait(false);
        await r.NextResultAsync(ct).ConfigureAwait(false);
        await r.ReadAsync(ct).ConfigureAwait(false);
        return new DriverLookup(local, r.IsDBNull(0) ? null : r.GetInt64(0), r.IsDBNull(1) ? null : r.GetBoolean(1));
    };

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

    public async Task<RidePage> GetPageForUserAsync(long userId, int limit, string? cursor = null, CancellationToken ct = default)
    {
        Guard.Id(userId, nameof(userId));
        Guard.Limit(limit, MaxLatestLimit, nameof(limit));
        MySqlCommand command;
        if (cursor is null)
        {
            command = new MySqlCommand(LatestRidesForUser);
        }
        else
        {
            var after = RideCursor.Decode(cursor, userId, nameof(cursor));
            command = new MySqlCommand(RidesPageForUser).With("@CreatedAt", after.CreatedAt).With("@Id", after.RideId);
        }

        // One ride more than the page tells whether another page follows, so the last page never points at an empty one.
        var rides = await reader.ReadAsync("GetRidesPageForUser", shards.PhysicalShardOf(userId), command.With("@UserId", userId).With("@Limit", limit + 1), ReadRides, ct).ConfigureAwait(false);
        if (rides.Count <= limit)
        {
            return new RidePage(rides, null);
        }

        rides.RemoveAt(limit);
        return new RidePage(rides, RideCursor.After(rides[^1]).Encode());
    }

    public Task<Ride?> GetCurrentForUserAsync(long userId, CancellationToken ct = default)
    {
        Guard.Id(userId, nameof(userId));
        return reader.ReadAsync("GetCurrentRideForUser", shards.PhysicalShardOf(userId), new MySqlCommand(CurrentRideForUser).With("@UserId", userId), ReadRide, ct);
    }

    /// <summary>
    /// A ride lives with its user. When the user lives on the driver's shard, the ride is found there by the driver's
    /// unique active-ride index; a ride booked across shards holds the driver through driver_holds on the driver's shard,
    /// which names the ride to read on the user's shard. A driver that is unavailable with neither (a ride booked on one
    /// server whose user and driver a move then separated) is looked up by the same unique index on every shard.
    /// </summary>
    public async Task<Ride?> GetCurrentForDriverAsync(long driverId, CancellationToken ct = default)
    {
        Guard.Id(driverId, nameof(driverId));
        var driverShard = shards.PhysicalShardOf(driverId);
        var found = await reader.ReadAsync("GetCurrentRideForDriver", driverShard, new MySqlCommand(CurrentRideAndHoldForDriver).With("@DriverId", driverId), ReadDriverLookup, ct).ConfigureAwait(false);
        if (found.Local.FirstOrDefault(ride => ride.IsActive() && Placed(ride.Id, driverShard)) is { } local)
        {
            return local;
        }

        if (found.HeldFor is { } heldFor)
        {
            var held = await GetAsync(heldFor, ct).ConfigureAwait(false);
            // A hold whose ride is not stored yet (a booking in flight) or already ended (its release is still on its way) is no current ride.
            return held is not null && held.IsActive() && held.DriverId == driverId ? held : null;
        }

        if (found.Available is not false || shards.PhysicalShardCount == 1)
        {
            return null;
        }

        var perShard = await reader.FanOutAsync("GetCurrentRideForDriver", () => new MySqlCommand(CurrentRideForDriver).With("@DriverId", driverId), ReadRides, ct).ConfigureAwait(false);
        return perShard.SelectMany((rows, shard) => rows.Where(ride => ride.IsActive() && Placed(ride.Id, shard))).FirstOrDefault();
    }

    /// <summary>What the driver's shard knows of the driver's current ride.</summary>
    private sealed record DriverLookup(List<Ride> Local, long? HeldFor, bool? Available);

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
    private bool Placed(long id, int shard) => ((IShardResolver)shards).PhysicalShardOf(id) == shard;

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
