using System.Diagnostics;
using System.Text.Json.Serialization;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using RideBooking.Data;
using RideBooking.Data.Testing;

namespace RideBooking.WebApi;

/// <summary>Builds the web sample's application: the same code path for <c>dotnet run</c>, the tests and the smoke run.</summary>
public static class WebApiHost
{
    /// <summary>Configuration key (or the <c>--sharded</c> flag) that starts a throwaway sharded cluster when none is configured.</summary>
    public const string ShardedKey = "RideBooking:Sharded";

    /// <summary>
    /// Builds the application. Without <c>RideBooking:ConnectionString</c> or <c>RideBooking:Shards</c> it first starts a
    /// throwaway database (a cluster of <c>Sample:ThrowawayShards</c> primaries, 4 by default, with
    /// <c>Sample:ThrowawayReplicas</c> replicas each, 1 by default, in sharded mode); disposing the application drops it.
    /// </summary>
    /// <param name="args">The command line: <c>--sharded</c>, then any <c>--key=value</c> configuration such as <c>--urls</c>.</param>
    /// <param name="ct">Cancels starting the throwaway servers.</param>
    /// <returns>The application, ready to run.</returns>
    public static async Task<WebApplication> BuildAsync(string[] args, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(args);

        // "--sharded" is a flag, not a "--key value" pair: keep it away from the command-line configuration provider.
        var shardedFlag = args.Contains("--sharded");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [.. args.Where(a => a != "--sharded")],
            ContentRootPath = AppContext.BaseDirectory,
        });

        var throwaway = await ThrowawayServers.StartIfNoneConfiguredAsync(
            builder.Configuration, shardedFlag || builder.Configuration.GetValue<bool>(ShardedKey), Console.Out, ct);
        try
        {
            ConfigureServices(builder, throwaway);
            var app = builder.Build();
            // Resolved once so that the container owns it: disposing the application drops the throwaway servers.
            app.Services.GetRequiredService<ThrowawayServers>();
            // Listening from the start, so that the status page counts every booking.
            app.Services.GetRequiredService<StatusMetrics>();
            Configure(app);
            return app;
        }
        catch
        {
            await throwaway.DisposeAsync();
            throw;
        }
    }

    private static void ConfigureServices(WebApplicationBuilder builder, ThrowawayServers throwaway)
    {
        var services = builder.Services;
        services.AddSingleton(_ => throwaway);
        services.AddRideBookingData(builder.Configuration.GetSection("RideBooking"));

        // Problem details (RFC 7807) for every error: the typed exceptions of the library map to 404/409/422/503.
        services.AddProblemDetails();
        services.AddExceptionHandler<RideBookingExceptionHandler>();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));

        services.AddOpenApi();

        // The library's own checks: every primary and replica reachable, the schema current, replica lag under the limit.
        services.AddHealthChecks().AddRideBookingData();

        services.AddSingleton<StatusMetrics>();

        var otel = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("RideBooking.WebApi"))
            .WithTracing(t => t.AddSource(RideBookingTelemetry.ActivitySourceName).AddAspNetCoreInstrumentation())
            .WithMetrics(m => m.AddMeter(RideBookingTelemetry.MeterName).AddAspNetCoreInstrumentation());
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            // OTLP only when a collector is configured (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL, ...).
            otel.UseOtlpExporter();
        }
    }

    private static void Configure(WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        app.UseDefaultFiles();
        app.UseStaticFiles();

        app.MapOpenApi(); // /openapi/v1.json
        app.MapHealthChecks("/health");
        app.MapRideBookingEndpoints();
        app.MapStatusEndpoints();
    }
}
