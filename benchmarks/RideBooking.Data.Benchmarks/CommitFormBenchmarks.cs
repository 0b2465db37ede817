using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Benchmarks;

/// <summary>
/// What sending COMMIT as a command of its own (as the library does on Galera nodes) would cost on a single server:
/// BookAsync with COMMIT in the batch of its last statements (what a single non-Galera server gets) versus the same
/// BookAsync with COMMIT as a separate round trip. Time per booking, 1 and 4 clients on distinct drivers.
/// </summary>
[InvocationCount(Invocations, unrollFactor: 1)]
[BenchmarkCategory("Commit form")]
public class CommitFormBenchmarks : WriteBenchmarkBase
{
    private const int Invocations = 8;
    private const int BookingsPerClient = 8;
    private const int MaxClients = 4;

    private int _next;
    private ServiceProvider _separate = null!;
    private IRideBookingService _separateBooking = null!;

    [Params(1, 4)]
    public int Clients { get; set; }

    protected override int PoolSize => 2 * Invocations * MaxClients * BookingsPerClient;

    protected override async Task GlobalSetupAsync()
    {
        await base.GlobalSetupAsync();
        _separate = BenchmarkData.Library(Database);
        _separate.GetRequiredService<RideBookingDataSource>().Shards[0].Primary.AlwaysOneStatementPerCommand = true;
        _separateBooking = _separate.GetRequiredService<IRideBookingService>();
    }

    [GlobalCleanup(Targets = [nameof(Library_SeparateCommit)])]
    public void CleanupSeparate()
    {
        GlobalCleanup();
        _separate.Dispose();
    }

    [IterationSetup]
    public void IterationSetup()
    {
        ResetPool();
        _next = 0;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BookingsPerClient)]
    public Task Library_CommitInBatch() => RunClientsAsync(pair => Booking.BookAsync(UserId(pair), DriverId(pair), 25m));

    [Benchmark(OperationsPerInvoke = BookingsPerClient)]
    public Task Library_SeparateCommit() => RunClientsAsync(pair => _separateBooking.BookAsync(UserId(pair), DriverId(pair), 25m));

    private Task RunClientsAsync(Func<long, Task> book)
    {
        var first = _next;
        _next += Clients * BookingsPerClient;
        return Task.WhenAll(Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            for (var i = 0; i < BookingsPerClient; i++)
            {
                await book(first + (client * BookingsPerClient) + i);
            }
        })));
    }
}
