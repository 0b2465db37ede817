using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace RideBooking.Data.Benchmarks;

/// <summary>
/// The opt-in cache (AddRideBookingCache, HybridCache over Redis) against the library without it, on the same data:
/// a user by id, and the first 20 available drivers. The cached cases are warm: they measure what a repeated look-up
/// costs while its entry lives in the instance's memory (HybridCache deserializes a copy on every hit).
/// </summary>
public class CacheBenchmarks : QueryBenchmarkBase
{
    private const string UserCategory = "Cache: user by id";
    private const string AvailableCategory = "Cache: 20 available drivers";

    private ServiceProvider _cached = null!;
    private IUserRepository _users = null!;
    private IUserRepository _cachedUsers = null!;
    private IDriverRepository _drivers = null!;
    private IDriverRepository _cachedDrivers = null!;
    private long _userId;

    protected override void Setup(DataSize size)
    {
        var redis = Environment.GetEnvironmentVariable("RIDEBOOKING_REDIS");
        if (string.IsNullOrWhiteSpace(redis))
        {
            throw new InvalidOperationException("The cache benchmarks need Redis: set RIDEBOOKING_REDIS, or install redis-server so the suite starts a throwaway one.");
        }

        _cached = new ServiceCollection()
            .AddRideBookingData(o => o.ConnectionString = ConnectionString)
            .AddRideBookingCache(o =>
            {
                o.RedisConfiguration = redis;
                // A prefix of its own per run: entries of an earlier run are never read.
                o.KeyPrefix = $"bench-{Guid.NewGuid():N}:";
            })
            .BuildServiceProvider();
        _users = Services.GetRequiredService<IUserRepository>();
        _drivers = Services.GetRequiredService<IDriverRepository>();
        _cachedUsers = _cached.GetRequiredService<IUserRepository>();
        _cachedDrivers = _cached.GetRequiredService<IDriverRepository>();
        _userId = BenchmarkData.FirstId + (size.Users / 125);

        var fromDatabase = _users.GetAsync(_userId).GetAwaiter().GetResult() ?? throw new InvalidOperationException($"User {_userId} is missing in {size.Name}.");
        if (_cachedUsers.GetAsync(_userId).GetAwaiter().GetResult() != fromDatabase
            || !_cachedDrivers.GetAvailableAsync(20).GetAwaiter().GetResult().SequenceEqual(_drivers.GetAvailableAsync(20).GetAwaiter().GetResult()))
        {
            throw new InvalidOperationException("The cached look-ups do not return what the database holds.");
        }
    }

    protected override void Cleanup() => _cached.Dispose();

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(UserCategory)]
    public Task<User?> Database_UserById() => _users.GetAsync(_userId);

    [Benchmark]
    [BenchmarkCategory(UserCategory)]
    public Task<User?> Cached_UserById() => _cachedUsers.GetAsync(_userId);

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(AvailableCategory)]
    public Task<IReadOnlyList<Driver>> Database_Available20() => _drivers.GetAvailableAsync(20);

    [Benchmark]
    [BenchmarkCategory(AvailableCategory)]
    public Task<IReadOnlyList<Driver>> Cached_Available20() => _cachedDrivers.GetAvailableAsync(20);
}
