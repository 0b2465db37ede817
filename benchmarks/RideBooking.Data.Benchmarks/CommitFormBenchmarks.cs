using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Benchmarks;

/// <summary>
/// What the Galera form of a unit (every statement, COMMIT included, a command of its own) would cost on a single server:
/// a ride's lifecycle (book, accept, complete) in the batched form a single non-Galera server gets versus the same
/// lifecycle with one statement per command. Time per lifecycle, 1 and 4 clients on distinct drivers.
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

    [GlobalCleanup(Targets = [nameof(Library_OneStatementPerCommand)])]
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
    public Task Library_Batched() => RunClientsAsync(pair => LifecycleAsync(Booking, pair));

    [Benchmark(OperationsPerInvoke = BookingsPerClient)]
    public Task Library_OneStatementPerCommand() => RunClientsAsync(pair => LifecycleAsync(_separateBooking, pair));

    private async Task LifecycleAsync(IRideBookingService booking, long pair)
    {
        var ride = await booking.BookAsync(UserId(pair), DriverId(pair), 25m).ConfigureAwait(false);
        await booking.AcceptAsync(ride.Id, ride.DriverId).ConfigureAwait(false);
        await booking.CompleteAsync(ride.Id).ConfigureAwait(false);
    }

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
