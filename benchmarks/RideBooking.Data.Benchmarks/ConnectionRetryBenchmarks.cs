using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Benchmarks;

/// <summary>
/// What never failing on a stale pooled connection costs on the happy path. The library retries a failure that happened
/// before anything could commit on a new physical connection, after the fact: no round trip is added. The alternative,
/// validating every pooled connection with a ping before use, is measured next to it; the baseline is the same read by
/// hand on a pooled connection.
/// </summary>
[BenchmarkCategory("Stale-connection safety")]
#pragma warning disable CA1001 // The data source is disposed in GlobalCleanup, BenchmarkDotNet's end of the benchmark's life.
public class ConnectionRetryBenchmarks : QueryBenchmarkBase
{
    private long _userId;
    private IUserRepository _users = null!;
    private MySqlDataSource _dataSource = null!;

    protected override void Setup(DataSize size)
    {
        _userId = BenchmarkData.FirstId + 7;
        _users = Services.GetRequiredService<IUserRepository>();
        _dataSource = new MySqlDataSource(new MySqlConnectionStringBuilder(ConnectionString) { ConnectionReset = false }.ConnectionString);
        if (_users.GetAsync(_userId).GetAwaiter().GetResult() is null)
        {
            throw new InvalidOperationException($"User {_userId} is missing in {size.Name}.");
        }
    }

    protected override void Cleanup() => _dataSource.Dispose();

    [Benchmark(Baseline = true)]
    public async Task<User?> HandWritten_UserById()
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var command = new MySqlCommand(UserRepository.UserById, connection);
        command.Parameters.AddWithValue("@Id", _userId);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? new User(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetDateTime(3)) : null;
    }

    [Benchmark]
    public async Task<User?> HandWritten_UserById_PingEveryCheckout()
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        if (!await connection.PingAsync())
        {
            throw new InvalidOperationException("The ping failed.");
        }

        await using var command = new MySqlCommand(UserRepository.UserById, connection);
        command.Parameters.AddWithValue("@Id", _userId);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? new User(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetDateTime(3)) : null;
    }

    [Benchmark]
    public Task<User?> Library_UserById_RetryOnStale() => _users.GetAsync(_userId);
}
#pragma warning restore CA1001
