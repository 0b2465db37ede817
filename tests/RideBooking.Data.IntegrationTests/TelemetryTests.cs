using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// Tests that read the library's metrics through OpenTelemetry: the meter's instruments are process-wide, so these run
/// alone (after the parallel tests), which keeps every count exact.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryTestGroup : ICollectionFixture<ClusterFixture>
{
    public const string Name = "Telemetry";
}

/// <summary>The spans and metrics a host wired with OpenTelemetry sees, through its in-memory exporter.</summary>
[Collection(TelemetryTestGroup.Name)]
public sealed class TelemetryTests(ClusterFixture cluster) : IAsyncLifetime
{
    /// <summary>The test's own root span: the spans of this test are the ones in its trace.</summary>
    private static readonly ActivitySource TestSource = new("RideBooking.Data.IntegrationTests.Telemetry");

    private readonly List<Activity> _spans = [];
    private readonly List<MetricSnapshot> _metrics = [];
    private TracerProvider _tracing = null!;
    private MeterProvider _metering = null!;

    public Task InitializeAsync()
    {
        // Wired as a host would (see README "Monitoring"), with the in-memory exporter instead of OTLP.
        _tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(TestSource.Name, RideBookingTelemetry.ActivitySourceName, "MySqlConnector")
            .AddInMemoryExporter(_spans)
            .Build()!;
        _metering = Sdk.CreateMeterProviderBuilder()
            .AddMeter(RideBookingTelemetry.MeterName)
            .AddInMemoryExporter(_metrics)
            .Build()!;
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _tracing.Dispose();
        _metering.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_booking_has_its_span_with_operation_shard_and_outcome_over_the_drivers_spans_and_is_measured_and_counted()
    {
        await using var db = await Testing.RideBookingTestDatabase.CreateAsync();
        await using var services = DatabaseFixture.BuildServices(db.ConnectionString);
        var users = services.GetRequiredService<IUserRepository>();
        var drivers = services.GetRequiredService<IDriverRepository>();
        var booking = services.GetRequiredService<IRideBookingService>();
        var rides = services.GetRequiredService<IRideRepository>();
        var payments = services.GetRequiredService<IPaymentRepository>();
        const string name = "Asha Telemetry", phone = "+15550100777", vehicle = "KA-TEL-77", transactionId = "txn-telemetry-0001";

        ActivityTraceId trace;
        Ride ride;
        using (var root = TestSource.StartActivity("test"))
        {
            trace = root!.TraceId;
            var user = await users.CreateAsync(name, phone);
            var other = await users.CreateAsync("Other Rider", "+15550100778");
            var driver = await drivers.CreateAsync("Dev Driver", vehicle);
            ride = await booking.BookAsync(user.Id, driver.Id, 21.50m);
            await Assert.ThrowsAsync<DriverUnavailableException>(() => booking.BookAsync(other.Id, driver.Id, 9m));
            Assert.Null(await rides.GetAsync(ride.Id + 4096));
            await booking.AcceptAsync(ride.Id, driver.Id);
            await booking.CompleteAsync(ride.Id);
            await payments.RecordAsync(ride.Id, transactionId, 21.50m);
        }

        _tracing.ForceFlush();
        _metering.ForceFlush();
        var spans = _spans.Where(s => s.TraceId == trace && s.Source.Name == RideBookingTelemetry.ActivitySourceName).ToList();

        Assert.Equal(
            ["CreateUser", "CreateUser", "CreateDriver", "BookRide", "BookRide", "GetRide", "AcceptRide", "CompleteRide", "RecordPayment"],
            spans.OrderBy(s => s.StartTimeUtc).Select(s => s.DisplayName));

        var booked = spans.First(s => s.DisplayName == "BookRide");
        Assert.Equal("BookRide", booked.GetTagItem("operation"));
        Assert.Equal(0, booked.GetTagItem("shard"));
        Assert.Equal(0, booked.GetTagItem("driver_shard"));
        Assert.Equal("ok", booked.GetTagItem("outcome"));
        Assert.Equal(ActivityStatusCode.Unset, booked.Status);
        // The driver's own spans (MySqlConnector) are children of the library's span.
        Assert.Contains(_spans, s => s.Source.Name == "MySqlConnector" && s.ParentSpanId == booked.SpanId);

        var refused = spans.Where(s => s.DisplayName == "BookRide").Last();
        Assert.Equal("driver_unavailable", refused.GetTagItem("outcome"));
        Assert.Equal(typeof(DriverUnavailableException).FullName, refused.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Unset, refused.Status);
        Assert.Equal("not_found", spans.Single(s => s.DisplayName == "GetRide").GetTagItem("outcome"));
        Assert.False((bool)spans.Single(s => s.DisplayName == "RecordPayment").GetTagItem("already_recorded")!);

        // No personal data in any tag of the library's spans.
        var values = spans.SelectMany(s => s.TagObjects).Select(t => Convert.ToString(t.Value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty).ToList();
        foreach (var secret in new[] { name, phone, vehicle, transactionId, "Other Rider", "Dev Driver" })
        {
            Assert.DoesNotContain(values, v => v.Contains(secret, StringComparison.Ordinal));
        }

        var duration = Assert.Single(_metrics, m => m.Name == "ridebooking.operation.duration");
        Assert.Equal("s", duration.Unit);
        Assert.Equal(MetricType.Histogram, duration.MetricType);
        var bookOk = Assert.Single(duration.MetricPoints, p => Tags(p) is var t && t["operation"] == "BookRide" && t["outcome"] == "ok");
        Assert.Equal("0", Tags(bookOk)["shard"]);
        Assert.Equal(1, bookOk.GetHistogramCount());
        Assert.True(bookOk.GetHistogramSum() > 0);
        Assert.Equal(1, Assert.Single(duration.MetricPoints, p => Tags(p) is var t && t["operation"] == "BookRide" && t["outcome"] == "driver_unavailable").GetHistogramCount());
        Assert.Equal(2, Assert.Single(duration.MetricPoints, p => Tags(p) is var t && t["operation"] == "CreateUser" && t["outcome"] == "ok").GetHistogramCount());

        Assert.Equal(1, Sum("ridebooking.bookings"));
        Assert.Equal(1, Sum("ridebooking.conflicts", ("operation", "BookRide"), ("kind", "driver_unavailable")));
    }

    [Fact]
    public async Task On_a_cluster_the_shard_tag_is_the_physical_shard_of_the_ids_and_a_cross_shard_booking_names_both()
    {
        await using var db = new ShardedServices(cluster.Cluster);
        var user = await db.NewUserOnShardAsync(1);
        var driver = await db.NewDriverOnShardAsync(3);

        ActivityTraceId trace;
        using (var root = TestSource.StartActivity("test"))
        {
            trace = root!.TraceId;
            var ride = await db.Booking.BookAsync(user.Id, driver.Id, 12m);
            await db.Booking.CancelAsync(ride.Id);
            Assert.Equal(user, await db.Users.GetAsync(user.Id));
            await db.Drivers.GetAvailableAsync(5);
        }

        _tracing.ForceFlush();
        _metering.ForceFlush();
        var spans = _spans.Where(s => s.TraceId == trace && s.Source.Name == RideBookingTelemetry.ActivitySourceName).ToDictionary(s => s.DisplayName);

        Assert.Equal(1, spans["BookRide"].GetTagItem("shard"));
        Assert.Equal(3, spans["BookRide"].GetTagItem("driver_shard"));
        Assert.Equal(1, spans["CancelRide"].GetTagItem("shard"));
        Assert.Equal(1, spans["GetUser"].GetTagItem("shard"));
        Assert.Null(spans["GetAvailableDrivers"].GetTagItem("shard"));
        Assert.All(spans.Values, s => Assert.Equal("ok", s.GetTagItem("outcome")));

        var duration = Assert.Single(_metrics, m => m.Name == "ridebooking.operation.duration");
        Assert.Equal("1", Tags(Assert.Single(duration.MetricPoints, p => Tags(p)["operation"] == "BookRide"))["shard"]);
        Assert.False(Tags(Assert.Single(duration.MetricPoints, p => Tags(p)["operation"] == "GetAvailableDrivers")).ContainsKey("shard"));
    }

    private static Dictionary<string, string?> Tags(MetricPoint point)
    {
        var tags = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var tag in point.Tags)
        {
            tags[tag.Key] = Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        return tags;
    }

    private long Sum(string instrument, params (string Key, string Value)[] tags) =>
        _metrics.Where(m => m.Name == instrument)
            .SelectMany(m => m.MetricPoints)
            .Where(p => Tags(p) is var t && tags.All(tag => t.TryGetValue(tag.Key, out var v) && v == tag.Value))
            .Sum(p => p.GetSumLong());
}
