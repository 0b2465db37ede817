using BenchmarkDotNet.Attributes;

namespace RideBooking.Data.Benchmarks;

/// <summary>
/// Booking on distinct drivers with 1, 4 and 16 concurrent clients: the brief's five-round-trip flow
/// versus BookAsync. Time per booking; at 1 client it is the latency, at more the inverse of throughput.
/// </summary>
[InvocationCount(Invocations, unrollFactor: 1)]
[BenchmarkCategory("Booking")]
public class BookingBenchmarks : WriteBenchmarkBase
{
    private const int Invocations = 8;
    private const int BookingsPerClient = 8;
    private const int MaxClients = 16;

    private int _next;

    [Params(1, 4, 16)]
    public int Clients { get; set; }

    protected override int PoolSize => Invocations * MaxClients * BookingsPerClient;

    [IterationSetup]
    public void IterationSetup()
    {
        ResetPool();
        _next = 0;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BookingsPerClient)]
    public Task Brief_FiveRoundTrips() => RunClientsAsync(async pair =>
    {
        if (!await BriefBookAsync(UserId(pair), DriverId(pair), 25m))
        {
            throw new InvalidOperationException("A booking on a free driver failed.");
        }
    });

    [Benchmark(OperationsPerInvoke = BookingsPerClient)]
    public Task Library_BookAsync() => RunClientsAsync(pair => Booking.BookAsync(UserId(pair), DriverId(pair), 25m));

    /// <summary>Every client books its own drivers one after the other; the clients run concurrently.</summary>
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

/// <summary>16 clients race for one driver: one wins, 15 learn that they lost. Time per race.</summary>
[InvocationCount(Invocations, unrollFactor: 1)]
[BenchmarkCategory("Hot driver")]
public class HotDriverBenchmarks : WriteBenchmarkBase
{
    private const int Invocations = 16;
    private const int Racers = 16;

    private int _race;

    protected override int PoolSize => Invocations * Racers;

    [IterationSetup]
    public void IterationSetup()
    {
        ResetPool();
        _race = 0;
    }

    [Benchmark(Baseline = true)]
    public Task<int> Brief_HotDriver16() => RaceAsync(async (user, driver) => await BriefBookAsync(user, driver, 30m));

    [Benchmark]
    public Task<int> Library_HotDriver16() => RaceAsync(async (user, driver) =>
    {
        try
        {
            await Booking.BookAsync(user, driver, 30m);
            return true;
        }
        catch (DriverUnavailableException)
        {
            return false;
        }
    });

    private async Task<int> RaceAsync(Func<long, long, Task<bool>> book)
    {
        var race = _race++;
        var driver = DriverId(race);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, Racers).Select(r => Task.Run(() => book(UserId((race * Racers) + r), driver))));
        var winners = outcomes.Count(won => won);
        return winners == 1 ? winners : throw new InvalidOperationException($"{winners} clients won one driver.");
    }
}
