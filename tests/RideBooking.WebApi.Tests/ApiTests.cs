using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RideBooking.Data;

namespace RideBooking.WebApi.Tests;

/// <summary>Every endpoint's happy path and each problem-details mapping, through the test server against a real database.</summary>
public sealed class ApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private sealed record Problem(int Status, string Title, string Detail, string Kind);

    [Fact]
    public async Task Creates_a_user_and_reads_it_back()
    {
        var phone = NewPhone();
        var response = await _client.PostJsonAsync("/users", new { name = "Asha", phone });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.ReadAsync<User>();
        Assert.Equal(("Asha", phone), (created.Name, created.Phone));
        Assert.Equal($"/users/{created.Id}", response.Headers.Location?.OriginalString);

        var read = await _client.GetFromJsonAsync<User>($"/users/{created.Id}", ApiFactory.Json);
        Assert.Equal(created.Id, read!.Id);
        Assert.Equal(phone, read.Phone);
    }

    [Fact]
    public async Task Creates_a_driver_reads_it_back_and_lists_it_as_available()
    {
        var response = await _client.PostJsonAsync("/drivers", new { name = "Ravi", vehicleNumber = "KA-01-AB-1234" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.ReadAsync<Driver>();
        Assert.True(created.Available);

        var read = await _client.GetFromJsonAsync<Driver>($"/drivers/{created.Id}", ApiFactory.Json);
        Assert.Equal(("Ravi", "KA-01-AB-1234"), (read!.Name, read.VehicleNumber));

        var available = await _client.GetFromJsonAsync<List<Driver>>("/drivers/available?limit=1000", ApiFactory.Json);
        Assert.Contains(available!, d => d.Id == created.Id);
    }

    [Fact]
    public async Task Books_accepts_completes_and_pays_a_ride_then_lists_it_and_ranks_the_driver()
    {
        var (user, driver) = await NewUserAndDriverAsync();

        var booked = await _client.PostJsonAsync("/rides", new { userId = user.Id, driverId = driver.Id, fare = 249.50m });
        Assert.Equal(HttpStatusCode.Created, booked.StatusCode);
        var ride = await booked.ReadAsync<Ride>();
        Assert.Equal(RideStatus.Requested, ride.Status);
        Assert.Equal(RideStatus.Requested, (await _client.GetFromJsonAsync<Ride>($"/rides/{ride.Id}", ApiFactory.Json))!.Status);
        Assert.DoesNotContain((await _client.GetFromJsonAsync<List<Driver>>("/drivers/available?limit=1000", ApiFactory.Json))!, d => d.Id == driver.Id);

        var accepted = await _client.PostJsonAsync($"/rides/{ride.Id}/accept", new { driverId = driver.Id });
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(RideStatus.Accepted, (await accepted.ReadAsync<Ride>()).Status);

        var completed = await _client.PostAsync($"/rides/{ride.Id}/complete", null);
        Assert.Equal(HttpStatusCode.OK, completed.StatusCode);
        Assert.Equal(RideStatus.Completed, (await completed.ReadAsync<Ride>()).Status);

        var transactionId = $"psp-{ride.Id}";
        var paid = await _client.PostJsonAsync($"/rides/{ride.Id}/payments", new { transactionId, amount = 249.50m });
        Assert.Equal(HttpStatusCode.Created, paid.StatusCode);
        var payment = await paid.ReadAsync<PaymentResult>();
        Assert.False(payment.AlreadyRecorded);
        Assert.Equal((ride.Id, 249.50m, PaymentStatus.Pending), (payment.Payment.RideId, payment.Payment.Amount, payment.Payment.Status));

        var replay = await _client.PostJsonAsync($"/rides/{ride.Id}/payments", new { transactionId, amount = 249.50m });
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        var replayed = await replay.ReadAsync<PaymentResult>();
        Assert.True(replayed.AlreadyRecorded);
        Assert.Equal(payment.Payment.Id, replayed.Payment.Id);

        var settled = await _client.PutAsJsonAsync($"/payments/{transactionId}/status", new { status = "Succeeded" }, ApiFactory.Json);
        Assert.Equal(HttpStatusCode.OK, settled.StatusCode);
        Assert.Equal(PaymentStatus.Succeeded, (await settled.ReadAsync<Payment>()).Status);
        Assert.Equal(PaymentStatus.Succeeded, (await _client.GetFromJsonAsync<Payment>($"/payments/{transactionId}", ApiFactory.Json))!.Status);

        var latest = await _client.GetFromJsonAsync<List<Ride>>($"/users/{user.Id}/rides?limit=5", ApiFactory.Json);
        Assert.Equal([ride.Id], latest!.Select(r => r.Id));
        Assert.Equal(RideStatus.Completed, latest![0].Status);

        var top = await _client.GetFromJsonAsync<List<RankedDriver>>("/drivers/top?count=1000", ApiFactory.Json);
        Assert.Equal(249.50m, Assert.Single(top!, d => d.DriverId == driver.Id).Earnings);
    }

    [Fact]
    public async Task Cancels_a_ride_and_frees_the_driver()
    {
        var (user, driver) = await NewUserAndDriverAsync();
        var ride = await (await _client.PostJsonAsync("/rides", new { userId = user.Id, driverId = driver.Id, fare = 99.99m })).ReadAsync<Ride>();

        var cancelled = await _client.PostAsync($"/rides/{ride.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal(RideStatus.Cancelled, (await cancelled.ReadAsync<Ride>()).Status);
        Assert.True((await _client.GetFromJsonAsync<Driver>($"/drivers/{driver.Id}", ApiFactory.Json))!.Available);
    }

    [Fact]
    public async Task Booking_and_creation_accept_an_idempotency_key_header()
    {
        var user = await SendWithKeyAsync("/users", new { name = "Key", phone = NewPhone() }, $"user-{Guid.NewGuid():N}");
        Assert.Equal(HttpStatusCode.Created, user.StatusCode);
        var driver = await SendWithKeyAsync("/drivers", new { name = "Key", vehicleNumber = "KA-09" }, $"driver-{Guid.NewGuid():N}");
        Assert.Equal(HttpStatusCode.Created, driver.StatusCode);
        var userKey = $"user-{Guid.NewGuid():N}";
        var phone = NewPhone();
        var keyedUser = await (await SendWithKeyAsync("/users", new { name = "Keyed", phone }, userKey)).ReadAsync<User>();
        var driverKey = $"driver-{Guid.NewGuid():N}";
        var keyedDriver = await (await SendWithKeyAsync("/drivers", new { name = "Keyed", vehicleNumber = "KA-10" }, driverKey)).ReadAsync<Driver>();
        var rideKey = $"ride-{Guid.NewGuid():N}";
        var rideBody = new { userId = keyedUser.Id, driverId = keyedDriver.Id, fare = 10m };
        var ride = await SendWithKeyAsync("/rides", rideBody, rideKey);
        Assert.Equal(HttpStatusCode.Created, ride.StatusCode);
        var first = await ride.ReadAsync<Ride>();

        // A repeat with the same key returns the first result instead of a conflict or a second row.
        Assert.Equal(keyedUser, await (await SendWithKeyAsync("/users", new { name = "Keyed", phone }, userKey)).ReadAsync<User>());
        Assert.Equal(keyedDriver.Id, (await (await SendWithKeyAsync("/drivers", new { name = "Keyed", vehicleNumber = "KA-10" }, driverKey)).ReadAsync<Driver>()).Id);
        Assert.Equal(first, await (await SendWithKeyAsync("/rides", rideBody, rideKey)).ReadAsync<Ride>());

        // The same key with other arguments is a 409 problem.
        await AssertProblemAsync(await SendWithKeyAsync("/rides", rideBody with { fare = 11m }, rideKey), 409, "idempotency-key-conflict");
    }

    [Fact]
    public async Task Missing_entities_are_404_problems()
    {
        var (user, driver) = await NewUserAndDriverAsync();
        const long missing = 1;

        await AssertProblemAsync(await _client.GetAsync($"/users/{missing}"), 404, "not-found");
        await AssertProblemAsync(await _client.GetAsync($"/drivers/{missing}"), 404, "not-found");
        await AssertProblemAsync(await _client.GetAsync($"/rides/{missing}"), 404, "not-found");
        await AssertProblemAsync(await _client.GetAsync("/payments/no-such-transaction"), 404, "not-found");
        // Thrown by the library as EntityNotFoundException.
        await AssertProblemAsync(await _client.PostJsonAsync("/rides", new { userId = user.Id, driverId = missing, fare = 10m }), 404, "not-found");
        await AssertProblemAsync(await _client.PostJsonAsync("/rides", new { userId = missing, driverId = driver.Id, fare = 10m }), 404, "not-found");
        await AssertProblemAsync(await _client.PostAsync($"/rides/{missing}/complete", null), 404, "not-found");
        await AssertProblemAsync(await _client.PostJsonAsync($"/rides/{missing}/payments", new { transactionId = "t-missing", amount = 1m }), 404, "not-found");
        await AssertProblemAsync(await _client.PutAsJsonAsync("/payments/no-such-transaction/status", new { status = "Failed" }, ApiFactory.Json), 404, "not-found");
        // An unknown route is a problem too.
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/no-such-route")).StatusCode);
    }

    [Fact]
    public async Task Business_conflicts_are_409_problems_of_their_kind()
    {
        var (user, driver) = await NewUserAndDriverAsync();
        var (other, otherDriver) = await NewUserAndDriverAsync();
        var ride = await (await _client.PostJsonAsync("/rides", new { userId = user.Id, driverId = driver.Id, fare = 50m })).ReadAsync<Ride>();

        await AssertProblemAsync(await _client.PostJsonAsync("/rides", new { userId = other.Id, driverId = driver.Id, fare = 50m }), 409, "driver-unavailable");
        await AssertProblemAsync(await _client.PostJsonAsync("/rides", new { userId = user.Id, driverId = otherDriver.Id, fare = 50m }), 409, "active-ride-exists");
        await AssertProblemAsync(await _client.PostJsonAsync($"/rides/{ride.Id}/payments", new { transactionId = $"early-{ride.Id}", amount = 50m }), 409, "invalid-ride-state");

        await _client.PostAsync($"/rides/{ride.Id}/cancel", null);
        await AssertProblemAsync(await _client.PostAsync($"/rides/{ride.Id}/complete", null), 409, "invalid-ride-state");

        var paidRide = await (await _client.PostJsonAsync("/rides", new { userId = other.Id, driverId = otherDriver.Id, fare = 70m })).ReadAsync<Ride>();
        Assert.Equal(HttpStatusCode.OK, (await _client.PostJsonAsync($"/rides/{paidRide.Id}/accept", new { driverId = otherDriver.Id })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync($"/rides/{paidRide.Id}/complete", null)).StatusCode);
        var transactionId = $"psp-{paidRide.Id}";
        Assert.Equal(HttpStatusCode.Created, (await _client.PostJsonAsync($"/rides/{paidRide.Id}/payments", new { transactionId, amount = 70m })).StatusCode);
        await AssertProblemAsync(await _client.PostJsonAsync($"/rides/{paidRide.Id}/payments", new { transactionId, amount = 71m }), 409, "payment-conflict");

        // The problem says what happened without echoing the phone number.
        var phone = NewPhone();
        await _client.PostJsonAsync("/users", new { name = "First", phone });
        var duplicate = await _client.PostJsonAsync("/users", new { name = "Second", phone });
        var body = await AssertProblemAsync(duplicate, 409, "duplicate-phone");
        Assert.DoesNotContain(phone, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_input_is_a_422_problem_naming_the_parameter()
    {
        var (user, driver) = await NewUserAndDriverAsync();

        Assert.Equal("name", (await ProblemJsonAsync(await _client.PostJsonAsync("/users", new { name = " ", phone = NewPhone() }), 422, "invalid-argument")).GetProperty("parameter").GetString());
        await AssertProblemAsync(await _client.PostJsonAsync("/users", new { name = "NoPhone" }), 422, "invalid-argument");
        await AssertProblemAsync(await _client.PostJsonAsync("/drivers", new { name = "Ravi", vehicleNumber = "" }), 422, "invalid-argument");
        await AssertProblemAsync(await _client.PostJsonAsync("/rides", new { userId = user.Id, driverId = driver.Id, fare = -5m }), 422, "invalid-argument");
        await AssertProblemAsync(await _client.GetAsync($"/users/{user.Id}/rides?limit=0"), 422, "invalid-argument");
        await AssertProblemAsync(await _client.GetAsync("/drivers/top?count=-1"), 422, "invalid-argument");
        await AssertProblemAsync(await SendWithKeyAsync("/rides", new { userId = user.Id, driverId = driver.Id, fare = 5m }, " "), 422, "invalid-argument");

        // Nothing was half-written: the driver is still free and the user has no ride.
        Assert.True((await _client.GetFromJsonAsync<Driver>($"/drivers/{driver.Id}", ApiFactory.Json))!.Available);
        Assert.Empty((await _client.GetFromJsonAsync<List<Ride>>($"/users/{user.Id}/rides", ApiFactory.Json))!);
    }

    [Fact]
    public async Task Serves_the_openapi_document_and_the_health_endpoint()
    {
        using var document = JsonDocument.Parse(await _client.GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");
        foreach (var path in new[] { "/users", "/users/{userId}", "/users/{userId}/rides", "/drivers", "/drivers/{driverId}", "/drivers/available", "/drivers/top", "/rides", "/rides/{rideId}", "/rides/{rideId}/accept", "/rides/{rideId}/complete", "/rides/{rideId}/cancel", "/rides/{rideId}/payments", "/payments/{transactionId}", "/payments/{transactionId}/status", "/status/data" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"the OpenAPI document has no {path}");
        }

        var health = await _client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("Healthy", await health.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Status_data_counts_a_booking_made_through_the_api()
    {
        var before = await _client.GetFromJsonAsync<StatusSnapshot>("/status/data", ApiFactory.Json);
        var (user, driver) = await NewUserAndDriverAsync();
        Assert.Equal(HttpStatusCode.Created, (await _client.PostJsonAsync("/rides", new { userId = user.Id, driverId = driver.Id, fare = 12m })).StatusCode);

        var after = await _client.GetFromJsonAsync<StatusSnapshot>("/status/data", ApiFactory.Json);
        Assert.Equal(before!.Bookings.Total + 1, after!.Bookings.Total);
        var shard = Assert.Single(after.Shards);
        Assert.Empty(shard.Replicas);
        Assert.Null(after.Cache.HitRatio);

        var page = await _client.GetAsync("/status.html");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("status.js", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<(User User, Driver Driver)> NewUserAndDriverAsync()
    {
        var user = await (await _client.PostJsonAsync("/users", new { name = "Rider", phone = NewPhone() })).ReadAsync<User>();
        var driver = await (await _client.PostJsonAsync("/drivers", new { name = "Driver", vehicleNumber = "KA-05-EF-0001" })).ReadAsync<Driver>();
        return (user, driver);
    }

    private Task<HttpResponseMessage> SendWithKeyAsync<T>(string path, T body, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, options: ApiFactory.Json) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return _client.SendAsync(request);
    }

    private static async Task<string> AssertProblemAsync(HttpResponseMessage response, int status, string kind)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonSerializer.Deserialize<Problem>(body, ApiFactory.Json)!;
        Assert.Equal((status, kind), (problem.Status, problem.Kind));
        Assert.False(string.IsNullOrWhiteSpace(problem.Detail));
        return body;
    }

    private static async Task<JsonElement> ProblemJsonAsync(HttpResponseMessage response, int status, string kind) =>
        JsonDocument.Parse(await AssertProblemAsync(response, status, kind)).RootElement.Clone();

    private static string NewPhone() => $"+91{Random.Shared.NextInt64(6_000_000_000, 9_999_999_999)}";
}
