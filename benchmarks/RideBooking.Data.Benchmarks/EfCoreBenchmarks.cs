using BenchmarkDotNet.Attributes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Benchmarks;

/// <summary>The entities an EF Core user would map onto the same tables.</summary>
public sealed class RideEntity
{
    public long Id { get; set; }

    public long UserId { get; set; }

    public long DriverId { get; set; }

    public RideStatus Status { get; set; }

    public decimal Fare { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}

public sealed class DriverEarningsEntity
{
    public long DriverId { get; set; }

    public decimal TotalEarnings { get; set; }
}

public sealed class RideBookingDbContext(DbContextOptions<RideBookingDbContext> options) : DbContext(options)
{
    public DbSet<RideEntity> Rides => Set<RideEntity>();

    public DbSet<DriverEarningsEntity> DriverEarnings => Set<DriverEarningsEntity>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<RideEntity>(ride =>
        {
            ride.ToTable("rides");
            ride.HasKey(r => r.Id);
            ride.Property(r => r.Id).HasColumnName("id").ValueGeneratedNever();
            ride.Property(r => r.UserId).HasColumnName("user_id");
            ride.Property(r => r.DriverId).HasColumnName("driver_id");
            ride.Property(r => r.Status).HasColumnName("status")
                .HasConversion(s => s.ToString().ToUpperInvariant(), s => Enum.Parse<RideStatus>(s, true));
            ride.Property(r => r.Fare).HasColumnName("fare").HasPrecision(10, 2);
            ride.Property(r => r.CreatedAt).HasColumnName("created_at");
            ride.Property(r => r.UpdatedAt).HasColumnName("updated_at");
        });
        modelBuilder.Entity<DriverEarningsEntity>(earnings =>
        {
            earnings.ToTable("driver_earnings");
            earnings.HasKey(e => e.DriverId);
            earnings.Property(e => e.DriverId).HasColumnName("driver_id");
            earnings.Property(e => e.TotalEarnings).HasColumnName("total_earnings").HasPrecision(18, 2);
        });
    }
}

/// <summary>
/// The peer a user would pick instead: EF Core with Pomelo's MySQL provider, with a pooled context
/// factory and no tracking, written the way EF Core's documentation suggests.
/// </summary>
public class EfCoreBenchmarks : QueryBenchmarkBase
{
    private PooledDbContextFactory<RideBookingDbContext> _contexts = null!;
    private long _userId;

    protected override void Setup(DataSize size)
    {
        _userId = BenchmarkData.FirstId + (size.Users / 125);
        var options = new DbContextOptionsBuilder<RideBookingDbContext>()
            .UseMySql(ConnectionString, ServerVersion.AutoDetect(ConnectionString))
            .UseQueryTrackingBehavior(QueryTrackingBehavior.NoTracking)
            .Options;
        _contexts = new PooledDbContextFactory<RideBookingDbContext>(options);
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("EF: latest rides")]
    public Task<List<Ride>> HandWritten_Latest10() =>
        HandWritten.RidesAsync(ConnectionString, RideRepository.LatestRidesForUser, "@UserId", _userId, "@Limit", 10);

    [Benchmark]
    [BenchmarkCategory("EF: latest rides")]
    public Task<IReadOnlyList<Ride>> Library_Latest10() => Rides.GetLatestForUserAsync(_userId, 10);

    [Benchmark]
    [BenchmarkCategory("EF: latest rides")]
    public async Task<List<Ride>> EfCore_Latest10()
    {
        await using var context = await _contexts.CreateDbContextAsync();
        return await context.Rides
            .Where(r => r.UserId == _userId)
            .OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id)
            .Take(10)
            .Select(r => new Ride(r.Id, r.UserId, r.DriverId, r.Status, r.Fare, r.CreatedAt, r.UpdatedAt))
            .ToListAsync();
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("EF: top drivers")]
    public Task<List<RankedDriver>> HandWritten_Top5() => HandWritten.RankedAsync(ConnectionString, RideRepository.TopDrivers, 5);

    [Benchmark]
    [BenchmarkCategory("EF: top drivers")]
    public Task<IReadOnlyList<RankedDriver>> Library_Top5() => Rides.GetTopDriversAsync(5);

    /// <summary>What an EF Core user writes for "top drivers": a GROUP BY over rides (LINQ has no RANK(), so ties are cut).</summary>
    [Benchmark]
    [BenchmarkCategory("EF: top drivers")]
    public async Task<List<DriverEarnings>> EfCore_Top5_GroupByRides()
    {
        await using var context = await _contexts.CreateDbContextAsync();
        return await context.Rides
            .Where(r => r.Status == RideStatus.Completed)
            .GroupBy(r => r.DriverId)
            .Select(g => new { DriverId = g.Key, Total = g.Sum(r => r.Fare) })
            .OrderByDescending(e => e.Total).ThenBy(e => e.DriverId)
            .Take(5)
            .Select(e => new DriverEarnings(e.DriverId, e.Total))
            .ToListAsync();
    }

    /// <summary>EF Core over the same rollup table the library reads: EF's own overhead.</summary>
    [Benchmark]
    [BenchmarkCategory("EF: top drivers")]
    public async Task<List<DriverEarnings>> EfCore_Top5_Rollup()
    {
        await using var context = await _contexts.CreateDbContextAsync();
        return await context.DriverEarnings
            .OrderByDescending(e => e.TotalEarnings).ThenBy(e => e.DriverId)
            .Take(5)
            .Select(e => new DriverEarnings(e.DriverId, e.TotalEarnings))
            .ToListAsync();
    }
}
