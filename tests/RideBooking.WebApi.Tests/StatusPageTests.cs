using System.Collections.Concurrent;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using PuppeteerSharp;
using RideBooking.Data;

namespace RideBooking.WebApi.Tests;

/// <summary>
/// The status page in headless Chromium (Debian's chromium package), served by the sample on a real Kestrel server on a
/// free loopback port over a throwaway cluster of 2 shards with 1 replica each: the page loads, shows live figures that a
/// booking made through the API changes, and logs no console error. It saves a screenshot (docs/status-page.png comes from it).
/// </summary>
public sealed class StatusPageTests
{
    [Fact]
    public async Task The_status_page_shows_live_figures_without_console_errors()
    {
        var chromium = FindChromium();
        await using var app = await WebApiHost.BuildAsync(["--sharded", "--Sample:ThrowawayShards=2", "--Sample:ThrowawayReplicas=1", "--urls=http://127.0.0.1:0"]);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        using var http = new HttpClient { BaseAddress = new Uri(address) };

        await using var browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
        await using var page = await browser.NewPageAsync();
        await page.SetViewportAsync(new ViewPortOptions { Width = 1100, Height = 720 });
        var problems = new ConcurrentQueue<string>();
        page.Console += (_, e) =>
        {
            if (e.Message.Type == ConsoleType.Error)
            {
                problems.Enqueue($"console error: {e.Message.Text}");
            }
        };
        page.PageError += (_, e) => problems.Enqueue($"page error: {e.Message}");
        page.RequestFailed += (_, e) => problems.Enqueue($"request failed: {e.Request.Url}");
        page.Response += (_, e) =>
        {
            if ((int)e.Response.Status >= 400)
            {
                problems.Enqueue($"{(int)e.Response.Status} for {e.Response.Url}");
            }
        };

        var response = await page.GoToAsync($"{address}/status.html");
        Assert.True(response.Ok, $"the status page answered {response.Status}");
        await page.WaitForFunctionAsync("() => Number(document.body.dataset.updates || 0) >= 1");
        Assert.Equal("0", await TextAsync(page, "#bookings-total"));
        Assert.Equal("none", await TextAsync(page, "#cache-ratio"));

        // Two shards with one replica each, listed with their lag (measured by the library's lag watch).
        var shardRows = await page.EvaluateExpressionAsync<string[][]>(
            "[...document.querySelectorAll('#shards tbody tr')].map(r => [...r.cells].map(c => c.textContent))");
        Assert.Equal(["0", "1"], shardRows.Select(r => r[0]));
        Assert.All(shardRows, r => Assert.Equal("0", r[1]));
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#shards tbody tr')].every(r => r.cells[2].textContent.endsWith(' s'))");

        // Bookings made through the API change the live figures.
        for (var i = 0; i < 3; i++)
        {
            var user = await (await http.PostAsJsonAsync("/users", new { name = $"Rider {i}", phone = $"+91{Random.Shared.NextInt64(6_000_000_000, 9_999_999_999)}" }, ApiFactory.Json)).ReadAsync<User>();
            var driver = await (await http.PostAsJsonAsync("/drivers", new { name = $"Driver {i}", vehicleNumber = $"KA-0{i}-XY-1234" }, ApiFactory.Json)).ReadAsync<Driver>();
            var booked = await http.PostAsJsonAsync("/rides", new { userId = user.Id, driverId = driver.Id, fare = 120m + i }, ApiFactory.Json);
            Assert.Equal(System.Net.HttpStatusCode.Created, booked.StatusCode);
        }

        await page.WaitForFunctionAsync("() => document.getElementById('bookings-total').textContent === '3'");
        // The rate covers the last 10 s only, so its value depends on timing: only its form is checked.
        Assert.Matches(@"^\d+\.\d$", await TextAsync(page, "#bookings-rate"));
        Assert.Equal("Updated", (await TextAsync(page, "#updated")).Split(' ')[0]);

        var screenshot = Environment.GetEnvironmentVariable("RIDEBOOKING_STATUS_SCREENSHOT") ?? Path.Combine(AppContext.BaseDirectory, "status-page.png");
        await page.ScreenshotAsync(screenshot, new ScreenshotOptions { FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 0);

        Assert.True(problems.IsEmpty, string.Join(Environment.NewLine, problems));
        await app.StopAsync();
    }

    private static async Task<string> TextAsync(IPage page, string selector) =>
        await page.EvaluateFunctionAsync<string>("s => document.querySelector(s).textContent", selector);

    /// <summary>The system's Chromium: CHROMIUM_PATH, or Debian's /usr/bin/chromium. PuppeteerSharp is never asked to download one.</summary>
    private static string FindChromium()
    {
        var candidates = new[] { Environment.GetEnvironmentVariable("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" };
        return candidates.FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p))
            ?? throw new InvalidOperationException(
                "No Chromium found for the status page test. Install Debian's package (bash .ci/ensure-chromium, or apt-get install chromium) " +
                "or set CHROMIUM_PATH to a Chromium or Chrome executable.");
    }
}
