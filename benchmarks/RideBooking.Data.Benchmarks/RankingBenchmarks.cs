using BenchmarkDotNet.Attributes;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Benchmarks;

/// <summary>Top 5 drivers by earnings: the brief's window query over every ride versus the rollup the library keeps.</summary>
[BenchmarkCategory("Top drivers")]
public class TopDriversBenchmarks : QueryBenchmarkBase
{
    [Benchmark(Baseline = true)]
    public Task<List<RankedDriver>> HandWritten_Top5() => HandWritten.RankedAsync(ConnectionString, RideRepository.TopDrivers, 5);

    [Benchmark]
    public Task<IReadOnlyList<RankedDriver>> Library_Top5() => Rides.GetTopDriversAsync(5);

    [Benchmark]
    public Task<List<RankedDriver>> BriefWindowQuery_Top5() => HandWritten.RankedAsync(ConnectionString, BriefSql.TopDrivers, 5);
}

/// <summary>Earnings of every driver: the brief's GROUP BY over every ride versus the rollup.</summary>
[BenchmarkCategory("Driver earnings")]
public class DriverEarningsBenchmarks : QueryBenchmarkBase
{
    [Benchmark(Baseline = true)]
    public Task<List<DriverEarnings>> HandWritten_Earnings() => HandWritten.EarningsAsync(ConnectionString, RideRepository.EarningsPerDriver);

    [Benchmark]
    public Task<IReadOnlyList<DriverEarnings>> Library_Earnings() => Rides.GetDriverEarningsAsync();

    [Benchmark]
    public Task<List<DriverEarnings>> BriefGroupBy_Earnings() => HandWritten.EarningsAsync(ConnectionString, BriefSql.Earnings);
}
