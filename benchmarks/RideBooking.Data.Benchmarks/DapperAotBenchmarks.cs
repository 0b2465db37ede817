using BenchmarkDotNet.Attributes;
using Dapper;
using MySqlConnector;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Benchmarks;

/// <summary>
/// Dapper.AOT (Dapper's mapping generated at compile time, called through interceptors) on the library's read paths, in
/// the same run as the hand-written reader: a user by id and the latest 10 rides of a user. Every case opens its own
/// connection, runs the library's own SQL with the same parameters and returns the same records.
/// </summary>
[DapperAot]
public class DapperAotBenchmarks : QueryBenchmarkBase
{
    private long _userId;

    protected override void Setup(DataSize size)
    {
        _userId = BenchmarkData.FirstId + (size.Users / 125);
        var user = UserHandWritten().GetAwaiter().GetResult();
        var viaAot = UserDapperAot().GetAwaiter().GetResult();
        var rides = LatestHandWritten().GetAwaiter().GetResult();
        var ridesViaAot = LatestDapperAot().GetAwaiter().GetResult();
        // The cases are comparable only if they return the same rows.
        if (user is null || user != viaAot || rides.Count != 10 || !rides.SequenceEqual(ridesViaAot))
        {
            throw new InvalidOperationException($"Dapper.AOT and the hand-written reader disagree for user {_userId} in {size.Name}.");
        }
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Dapper.AOT: user by id")]
    public async Task<User?> UserHandWritten()
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(UserRepository.UserById, connection);
        command.Parameters.AddWithValue("@Id", _userId);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? new User(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetDateTime(3)) : null;
    }

    [Benchmark]
    [BenchmarkCategory("Dapper.AOT: user by id")]
    public async Task<User?> UserDapperAot()
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync();
        return await connection.QueryFirstOrDefaultAsync<User>(UserRepository.UserById, new { Id = _userId });
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Dapper.AOT: latest 10 rides")]
    public Task<List<Ride>> LatestHandWritten() =>
        HandWritten.RidesAsync(ConnectionString, RideRepository.LatestRidesForUser, "@UserId", _userId, "@Limit", 10);

    [Benchmark]
    [BenchmarkCategory("Dapper.AOT: latest 10 rides")]
    public async Task<List<Ride>> LatestDapperAot()
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync();
        return (await connection.QueryAsync<Ride>(RideRepository.LatestRidesForUser, new { UserId = _userId, Limit = 10 })).AsList();
    }
}
