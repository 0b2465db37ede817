using RideBooking.Data;

namespace RideBooking.WebApi;

/// <summary>Body of <c>POST /users</c>.</summary>
public sealed record CreateUserRequest(string Name, string Phone);

/// <summary>Body of <c>POST /drivers</c>.</summary>
public sealed record CreateDriverRequest(string Name, string VehicleNumber);

/// <summary>Body of <c>POST /rides</c>.</summary>
public sealed record BookRideRequest(long UserId, long DriverId, decimal Fare);

/// <summary>Body of <c>POST /rides/{rideId}/accept</c>.</summary>
public sealed record AcceptRideRequest(long DriverId);

/// <summary>Body of <c>POST /rides/{rideId}/payments</c>.</summary>
public sealed record RecordPaymentRequest(string TransactionId, decimal Amount);

/// <summary>Body of <c>PUT /payments/{transactionId}/status</c>.</summary>
public sealed record SetPaymentStatusRequest(PaymentStatus Status);

/// <summary>The API over the library's repositories and booking service. Errors are problem details (see <see cref="RideBookingExceptionHandler"/>).</summary>
internal static class RideBookingEndpoints
{
    public static void MapRideBookingEndpoints(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/users").WithTags("Users");
        users.MapPost("/", async (CreateUserRequest body, HttpRequest request, IUserRepository repository, CancellationToken ct) =>
        {
            var user = await IdempotencyKey.CreateUserAsync(repository, body.Name, body.Phone, IdempotencyKey.From(request), ct);
            return TypedResults.Created($"/users/{user.Id}", user);
        }).WithName("CreateUser").WithSummary("Creates a user (Idempotency-Key header accepted).").ProducesProblem(409).ProducesProblem(422);
        users.MapGet("/{userId:long}", async (long userId, IUserRepository repository, CancellationToken ct) =>
            await repository.GetAsync(userId, ct) is { } user ? Results.Ok(user) : NotFound($"User {userId} does not exist."))
            .WithName("GetUser").Produces<User>().ProducesProblem(404);
        users.MapGet("/{userId:long}/rides", async (long userId, int? limit, IRideRepository rides, CancellationToken ct) =>
            TypedResults.Ok(await rides.GetLatestForUserAsync(userId, limit ?? 10, ct)))
            .WithName("GetLatestRidesOfUser").WithSummary("The user's latest rides, newest first (limit 10 by default).").ProducesProblem(422);

        var drivers = app.MapGroup("/drivers").WithTags("Drivers");
        drivers.MapPost("/", async (CreateDriverRequest body, HttpRequest request, IDriverRepository repository, CancellationToken ct) =>
        {
            var driver = await IdempotencyKey.CreateDriverAsync(repository, body.Name, body.VehicleNumber, IdempotencyKey.From(request), ct);
            return TypedResults.Created($"/drivers/{driver.Id}", driver);
        }).WithName("CreateDriver").WithSummary("Creates a driver (Idempotency-Key header accepted).").ProducesProblem(422);
        drivers.MapGet("/{driverId:long}", async (long driverId, IDriverRepository repository, CancellationToken ct) =>
            await repository.GetAsync(driverId, ct) is { } driver ? Results.Ok(driver) : NotFound($"Driver {driverId} does not exist."))
            .WithName("GetDriver").Produces<Driver>().ProducesProblem(404);
        drivers.MapGet("/available", async (int? limit, IDriverRepository repository, CancellationToken ct) =>
            TypedResults.Ok(await repository.GetAvailableAsync(limit ?? 20, ct)))
            .WithName("GetAvailableDrivers").WithSummary("Available drivers (limit 20 by default).").ProducesProblem(422);
        drivers.MapGet("/top", async (int? count, IRideRepository rides, CancellationToken ct) =>
            TypedResults.Ok(await rides.GetTopDriversAsync(count ?? 10, ct)))
            .WithName("GetTopDrivers").WithSummary("Drivers ranked by earnings (top 10 by default).").ProducesProblem(422);

        var rides = app.MapGroup("/rides").WithTags("Rides");
        rides.MapPost("/", async (BookRideRequest body, HttpRequest request, IRideBookingService booking, CancellationToken ct) =>
        {
            var ride = await IdempotencyKey.BookAsync(booking, body.UserId, body.DriverId, body.Fare, IdempotencyKey.From(request), ct);
            return TypedResults.Created($"/rides/{ride.Id}", ride);
        }).WithName("BookRide").WithSummary("Books a ride (Idempotency-Key header accepted).").ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);
        rides.MapGet("/{rideId:long}", async (long rideId, IRideRepository repository, CancellationToken ct) =>
            await repository.GetAsync(rideId, ct) is { } ride ? Results.Ok(ride) : NotFound($"Ride {rideId} does not exist."))
            .WithName("GetRide").Produces<Ride>().ProducesProblem(404);
        rides.MapPost("/{rideId:long}/accept", async (long rideId, AcceptRideRequest body, IRideBookingService booking, CancellationToken ct) =>
            TypedResults.Ok(await booking.AcceptAsync(rideId, body.DriverId, ct)))
            .WithName("AcceptRide").ProducesProblem(404).ProducesProblem(409);
        rides.MapPost("/{rideId:long}/complete", async (long rideId, IRideBookingService booking, CancellationToken ct) =>
            TypedResults.Ok(await booking.CompleteAsync(rideId, ct)))
            .WithName("CompleteRide").ProducesProblem(404).ProducesProblem(409);
        rides.MapPost("/{rideId:long}/cancel", async (long rideId, IRideBookingService booking, CancellationToken ct) =>
            TypedResults.Ok(await booking.CancelAsync(rideId, ct)))
            .WithName("CancelRide").ProducesProblem(404).ProducesProblem(409);
        rides.MapPost("/{rideId:long}/payments", async (long rideId, RecordPaymentRequest body, IPaymentRepository payments, CancellationToken ct) =>
        {
            var result = await payments.RecordAsync(rideId, body.TransactionId, body.Amount, ct);
            // A replay with the same transaction id returns the stored payment: 200 instead of 201.
            return result.AlreadyRecorded ? Results.Ok(result) : Results.Created($"/payments/{Uri.EscapeDataString(result.Payment.TransactionId)}", result);
        }).WithName("PayRide").WithSummary("Records the payment of a completed ride (a replay of the transaction id returns the stored payment).")
            .Produces<PaymentResult>(StatusCodes.Status201Created).Produces<PaymentResult>().ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);

        var payments = app.MapGroup("/payments").WithTags("Payments");
        payments.MapGet("/{transactionId}", async (string transactionId, IPaymentRepository repository, CancellationToken ct) =>
            await repository.GetByTransactionIdAsync(transactionId, ct) is { } payment ? Results.Ok(payment) : NotFound("No payment has this transaction id."))
            .WithName("GetPayment").Produces<Payment>().ProducesProblem(404);
        payments.MapPut("/{transactionId}/status", async (string transactionId, SetPaymentStatusRequest body, IPaymentRepository repository, CancellationToken ct) =>
            TypedResults.Ok(await repository.SetStatusAsync(transactionId, body.Status, ct)))
            .WithName("SetPaymentStatus").ProducesProblem(404).ProducesProblem(409);
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found", extensions: new Dictionary<string, object?> { ["kind"] = "not-found" });
}
