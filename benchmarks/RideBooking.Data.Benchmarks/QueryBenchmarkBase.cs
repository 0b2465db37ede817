using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace RideBooking.Data.Benchmarks;

/// <summary>Read-only benchmarks over a seeded data set of each size.</summary>
public abstract class QueryBenchmarkBase
{
    [ParamsSource(nameof(Sizes))]
    public string Size { get; set; } = "10k";

    public static IEnumerable<string> Sizes() => BenchmarkData.SizeNames();

    protected string ConnectionString { get; private set; } = string.Empty;

    protected ServiceProvider Services { get; private set; } = null!;

    protected IRideRepository Rides { get; private set; } = null!;

    [GlobalSetup]
    public void GlobalSetup()
    {
        var size = BenchmarkData.Size(Size);
        ConnectionString = BenchmarkData.ConnectionString(size.Database);
        Services = BenchmarkData.Library(size.Database);
        Rides = Services.GetRequiredService<IRideRepository>();
        Setup(size);
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        Cleanup();
        Services.Dispose();
    }

    protected virtual void Setup(DataSize size)
    {
    }

    protected virtual void Cleanup()
    {
    }
}
