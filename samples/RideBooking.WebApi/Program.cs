// The web sample: RideBooking.Data behind an ASP.NET Core minimal API, with problem details, an OpenAPI document,
// a health endpoint, OpenTelemetry and a live status page (/status.html). Configure RideBooking:ConnectionString or
// RideBooking:Shards like any host; without them a throwaway database (or, with --sharded, a throwaway cluster) is
// started through RideBooking.Data.Testing and dropped when the sample stops. See WebApiHost.cs.
using RideBooking.WebApi;

await using var app = await WebApiHost.BuildAsync(args);
await app.RunAsync();

/// <summary>The entry point, public so that the tests' <c>WebApplicationFactory&lt;Program&gt;</c> can name it.</summary>
public partial class Program;
