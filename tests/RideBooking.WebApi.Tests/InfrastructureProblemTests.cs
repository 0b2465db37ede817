using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using RideBooking.Data;

namespace RideBooking.WebApi.Tests;

/// <summary>
/// The sample pointed at a server that does not answer (a closed loopback port): infrastructure failures are 503
/// problems that name neither the server nor the connection string.
/// </summary>
public sealed class InfrastructureProblemTests : IClassFixture<ApiFactory>
{
    private const string Unreachable = "Server=127.0.0.1;Port=1;User ID=rb_secret_user;Password=rb-secret-password;Database=ridebooking;Connection Timeout=2";

    private readonly WebApplicationFactory<Program> _factory;

    public InfrastructureProblemTests(ApiFactory factory) =>
        _factory = factory.WithWebHostBuilder(b => b.ConfigureTestServices(services =>
            services.PostConfigure<RideBookingOptions>(o => o.ConnectionString = Unreachable)));

    [Fact]
    public async Task A_database_that_does_not_answer_is_a_503_problem_without_connection_details()
    {
        var client = _factory.CreateClient();
        var response = await client.GetAsync("/users/384672598266618165");
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"expected 503, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("database-unavailable", JsonDocument.Parse(body).RootElement.GetProperty("kind").GetString());
        foreach (var secret in new[] { "127.0.0.1", "Port", "rb_secret_user", "rb-secret-password", "Server=" })
        {
            Assert.DoesNotContain(secret, body, StringComparison.OrdinalIgnoreCase);
        }
    }
}
