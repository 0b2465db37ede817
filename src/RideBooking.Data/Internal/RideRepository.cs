using MySqlConnector;

namespace RideBooking.Data.Internal;

internal sealed class RideRepository(RideBookingDataSource dataSource) : IRideRepository
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
        SET @rb_threshold = COALESCE(
          (SELECT total_earnings FROM driver_earnings ORDER BY total_earnings DESC LIMIT 1 OFFSET @Skip), 0)
        """;

    /// <summary>
    /// RANK() over the drivers that earn at least the threshold: a range of ix_driver_earnings_total,
    /// not the whole rollup. The ranks equal those over all drivers because everyone who earns more is
    /// inside the range. Sent in one round trip together with <see cref="TopDriversThreshold"/>.
    /// </summary>
    internal const string TopDriversByEarnings = """
        SELECT driver_id AS DriverId, total_earnings AS Earnings,
               CAST(RANK() OVER (ORDER BY total_earnings DESC) AS SIGNED) AS `Rank`
        FROM driver_earnings
        WHERE total_earnings >= @rb_threshold
        ORDER BY `Rank`, DriverId
        """;

    internal const string TopDrivers = $"{TopDriversThreshold};\n{TopDriversByEarnings}";

    public async Task<Ride?> GetAsync(long rideId, CancellationToken ct = default)
    {
        var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        return await new MySqlCommand(RideById, connection).With("@Id", rideId).ReadSingleOrDefaultAsync(Rows.Ride, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<Ride>> GetLatestForUserAsync(long userId, int limit, CancellationToken ct = default)
    {
        Guard.Limit(limit, MaxLatestLimit, nameof(limit));
        var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        return await new MySqlCommand(LatestRidesForUser, connection).With("@UserId", userId).With("@Limit", limit).ReadListAsync(Rows.Ride, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<DriverEarnings>> GetDriverEarningsAsync(CancellationToken ct = default)
    {
        var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        return await new MySqlCommand(EarningsPerDriver, connection).ReadListAsync(Rows.DriverEarnings, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<RankedDriver>> GetTopDriversAsync(int top, CancellationToken ct = default)
    {
        Guard.Limit(top, MaxTop, nameof(top));
        var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        return await new MySqlCommand(TopDrivers, connection).With("@Skip", top - 1).ReadListAsync(Rows.RankedDriver, ct).ConfigureAwait(false);
    }
}
