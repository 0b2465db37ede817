namespace RideBooking.WebApi;

/// <summary>The status page (<c>wwwroot/status.html</c>) and the JSON it polls.</summary>
internal static class StatusEndpoints
{
    public static void MapStatusEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/status/data", (StatusMetrics metrics) => TypedResults.Ok(metrics.Snapshot()))
            .WithTags("Status").WithName("GetStatusData").WithSummary("Shards and replicas with lag, bookings per second, retries by reason, cache hit ratio.");
        app.MapGet("/status", () => Results.Redirect("/status.html")).ExcludeFromDescription();
        app.MapGet("/", () => Results.Redirect("/status.html")).ExcludeFromDescription();
    }
}
