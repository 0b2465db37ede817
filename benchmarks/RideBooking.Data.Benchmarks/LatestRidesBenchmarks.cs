using BenchmarkDotNet.Attributes;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Benchmarks;

/// <summary>Latest 10 rides of a user: index-backed, so flat in the table size; with the index ignored, a scan.</summary>
[BenchmarkCategory("Latest rides")]
public class LatestRidesBenchmarks : QueryBenchmarkBase
{
    private const string SelectOneSql = "SELECT 1";

    private const string IgnoredIndexSql = $"""
        SELECT {RideRepository.RideColumns}
        FROM rides IGNORE INDEX (ix_rides_user_created) WHERE user_id = @UserId
        ORDER BY created_at DESC, id DESC
        LIMIT @Limit
        """;

    private long _userId;
    private long _rideId;

    protected override void Setup(DataSize size)
    {
        // A user at the same place of the skewed distribution in every data set (about 45 rides).
        _userId = BenchmarkData.FirstId + (size.Users / 125);
        _rideId = BenchmarkData.FirstId + 5;
        if (Rides.GetLatestForUserAsync(_userId, 10).GetAwaiter().GetResult().Count < 10)
        {
            throw new InvalidOperationException($"User {_userId} has fewer than 10 rides in {size.Name}.");
        }
    }

    [Benchmark(Baseline = true)]
    public Task<List<Ride>> HandWritten_Latest10() =>
        HandWritten.RidesAsync(ConnectionString, RideRepository.LatestRidesForUser, "@UserId", _userId, "@Limit", 10);

    [Benchmark]
    public Task<IReadOnlyList<Ride>> Library_Latest10() => Rides.GetLatestForUserAsync(_userId, 10);

    [Benchmark]
    public Task<List<Ride>> IgnoredIndex_Latest10() =>
        HandWritten.RidesAsync(ConnectionString, IgnoredIndexSql, "@UserId", _userId, "@Limit", 10);

    [Benchmark]
    public async Task<object?> RoundTripFloor_Select1()
    {
        await using var connection = new MySqlConnector.MySqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlConnector.MySqlCommand(SelectOneSql, connection);
        return await command.ExecuteScalarAsync();
    }

    [Benchmark]
    public Task<List<Ride>> HandWritten_PrimaryKeyLookup() =>
        HandWritten.RidesAsync(ConnectionString, RideRepository.RideById, "@Id", _rideId);

    [Benchmark]
    public Task<Ride?> Library_PrimaryKeyLookup() => Rides.GetAsync(_rideId);
}
