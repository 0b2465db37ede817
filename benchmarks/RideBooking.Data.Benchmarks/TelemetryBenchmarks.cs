using System.Diagnostics;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Benchmarks;

/// <summary>
/// The cost of the instrumentation layer on the cheapest read (a ride by id): the core repository (baseline), the
/// registered service with nobody listening (what a host without OpenTelemetry pays), and the same while a span listener
/// records every span and a meter listener takes every duration (what a host wired with OpenTelemetry pays, exporter aside).
/// </summary>
[BenchmarkCategory("Telemetry: ride by id")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The listeners are disposed in the targeted GlobalCleanup, as BenchmarkDotNet's lifecycle wants.")]
public class TelemetryBenchmarks : QueryBenchmarkBase
{
    private long _rideId;
    // Called through the interface, like the registered service, so that both pay the same dispatch.
#pragma warning disable CA1859
    private IRideRepository _core = null!;
#pragma warning restore CA1859
    private ActivityListener? _spans;
    private MeterListener? _durations;

    protected override void Setup(DataSize size)
    {
        _rideId = BenchmarkData.FirstId + 5;
        _core = Services.GetRequiredService<RideRepository>();
        if (Rides is not InstrumentedRideRepository)
        {
            throw new InvalidOperationException($"The registered IRideRepository is {Rides.GetType().Name}, not the instrumentation layer.");
        }

        if (_core.GetAsync(_rideId).GetAwaiter().GetResult() is null)
        {
            throw new InvalidOperationException($"Ride {_rideId} is not in {size.Name}.");
        }
    }

    [GlobalSetup(Target = nameof(Instrumented_Listening_GetRide))]
    public void ListeningSetup()
    {
        GlobalSetup();
        _spans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RideBookingTelemetry.ActivitySourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(_spans);
        _durations = new MeterListener
        {
            InstrumentPublished = static (instrument, listener) =>
            {
                if (instrument.Meter.Name == RideBookingTelemetry.MeterName && instrument.Name == "ridebooking.operation.duration")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _durations.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        _durations.Start();
    }

    [GlobalCleanup(Target = nameof(Instrumented_Listening_GetRide))]
    public void ListeningCleanup()
    {
        _spans?.Dispose();
        _durations?.Dispose();
        GlobalCleanup();
    }

    [Benchmark(Baseline = true)]
    public Task<Ride?> Core_GetRide() => _core.GetAsync(_rideId);

    [Benchmark]
    public Task<Ride?> Instrumented_NobodyListening_GetRide() => Rides.GetAsync(_rideId);

    [Benchmark]
    public Task<Ride?> Instrumented_Listening_GetRide() => Rides.GetAsync(_rideId);
}

/// <summary>
/// The instrumentation layer's own cost, without a server: the same three cases around an implementation that returns a
/// completed task, so that the layer's nanoseconds and bytes are not hidden in a round trip's noise.
/// </summary>
[BenchmarkCategory("Telemetry: layer alone")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Disposed in the GlobalCleanup methods, as BenchmarkDotNet's lifecycle wants.")]
public class TelemetryLayerBenchmarks
{
    private static readonly Ride StoredRide = new(BenchmarkData.FirstId + 5, BenchmarkData.FirstId + 1, BenchmarkData.FirstId + 2, RideStatus.Completed, 10m, BenchmarkData.SeedEnd, BenchmarkData.SeedEnd);

    private RideBookingDataSource _dataSource = null!;
    private RideBookingMetrics _metrics = null!;
    // Both called through the interface, as a host calls the registered service.
#pragma warning disable CA1859
    private IRideRepository _core = null!;
    private IRideRepository _instrumented = null!;
#pragma warning restore CA1859
    private ActivityListener? _spans;
    private MeterListener? _durations;

    [GlobalSetup]
    public void GlobalSetup()
    {
        // No connection is opened: the resolver only needs the number of shards.
        _dataSource = new RideBookingDataSource("Server=127.0.0.1;Database=unused");
        _metrics = new RideBookingMetrics();
        _core = new CompletedRides();
        _instrumented = new InstrumentedRideRepository(_core, new OperationTelemetry(_metrics, new ShardResolver(_dataSource, new ModuloShardMap())));
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _metrics.Dispose();
        _dataSource.Dispose();
    }

    [GlobalSetup(Target = nameof(Layer_Listening_GetRide))]
    public void ListeningSetup()
    {
        GlobalSetup();
        _spans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RideBookingTelemetry.ActivitySourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(_spans);
        _durations = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, _metrics.Meter) && instrument.Name == "ridebooking.operation.duration")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _durations.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        _durations.Start();
    }

    [GlobalCleanup(Target = nameof(Layer_Listening_GetRide))]
    public void ListeningCleanup()
    {
        _spans?.Dispose();
        _durations?.Dispose();
        GlobalCleanup();
    }

    [Benchmark(Baseline = true)]
    public Task<Ride?> NoLayer_GetRide() => _core.GetAsync(StoredRide.Id);

    [Benchmark]
    public Task<Ride?> Layer_NobodyListening_GetRide() => _instrumented.GetAsync(StoredRide.Id);

    [Benchmark]
    public Task<Ride?> Layer_Listening_GetRide() => _instrumented.GetAsync(StoredRide.Id);

    /// <summary>Answers at once, so that only the layer around it is measured.</summary>
    private sealed class CompletedRides : IRideRepository
    {
        private static readonly Task<Ride?> Found = Task.FromResult<Ride?>(StoredRide);

        public Task<Ride?> GetAsync(long rideId, CancellationToken ct = default) => Found;

        public Task<IReadOnlyList<Ride>> GetLatestForUserAsync(long userId, int limit, CancellationToken ct = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<DriverEarnings>> GetDriverEarningsAsync(CancellationToken ct = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<RankedDriver>> GetTopDriversAsync(int top, CancellationToken ct = default) => throw new NotSupportedException();

        public Task<Ride?> GetCurrentForUserAsync(long userId, CancellationToken ct = default) => throw new NotSupportedException();

        public Task<Ride?> GetCurrentForDriverAsync(long driverId, CancellationToken ct = default) => throw new NotSupportedException();

        public Task<RidePage> GetPageForUserAsync(long userId, int limit, string? cursor = null, CancellationToken ct = default) => throw new NotSupportedException();
    }
}
