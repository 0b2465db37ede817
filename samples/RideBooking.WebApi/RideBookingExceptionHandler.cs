using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using RideBooking.Data;

namespace RideBooking.WebApi;

/// <summary>
/// Maps the library's typed exceptions to problem details (RFC 7807): a missing entity is 404, a business conflict 409,
/// bad input (the <see cref="ArgumentException"/> family) 422 and an infrastructure failure 503. The library's messages
/// name ids and rules only; infrastructure details (servers, connection strings) never reach the response.
/// </summary>
internal sealed partial class RideBookingExceptionHandler(IProblemDetailsService problemDetails, ILogger<RideBookingExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = Map(exception);
        if (problem is null)
        {
            return false; // anything else is a 500 from the default handler, without details
        }

        if (problem.Status == StatusCodes.Status503ServiceUnavailable)
        {
            var infrastructure = (RideBookingInfrastructureException)exception;
            LogInfrastructureFailure(logger, infrastructure.Operation, infrastructure.IsTransient, exception.GetType().Name);
            if (infrastructure.IsTransient)
            {
                httpContext.Response.Headers.RetryAfter = "1";
            }
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    /// <summary>The problem for an exception, or <see langword="null"/> when it is not one of the mapped families.</summary>
    internal static ProblemDetails? Map(Exception exception) => exception switch
    {
        EntityNotFoundException e => Problem(StatusCodes.Status404NotFound, "Not found", e.Message, "not-found"),
        DriverUnavailableException e => Problem(StatusCodes.Status409Conflict, "Driver unavailable", e.Message, "driver-unavailable"),
        ActiveRideExistsException e => Problem(StatusCodes.Status409Conflict, "Active ride exists", e.Message, "active-ride-exists"),
        InvalidRideStateException e => Problem(StatusCodes.Status409Conflict, "Invalid ride state", e.Message, "invalid-ride-state"),
        PaymentConflictException e => Problem(StatusCodes.Status409Conflict, "Payment conflict", e.Message, "payment-conflict"),
        DuplicatePhoneException e => Problem(StatusCodes.Status409Conflict, "Duplicate phone number", e.Message, "duplicate-phone"),
        IdempotencyKeyConflictException e => Problem(StatusCodes.Status409Conflict, "Idempotency key reused", e.Message, "idempotency-key-conflict"),
        RideBookingException e => Problem(StatusCodes.Status409Conflict, "Conflict", e.Message, "conflict"),
        ArgumentException e => Problem(StatusCodes.Status422UnprocessableEntity, "Invalid argument", InvalidArgumentDetail(e), "invalid-argument", e.ParamName),
        RideBookingInfrastructureException e => Problem(
            StatusCodes.Status503ServiceUnavailable,
            "Database unavailable",
            e.IsTransient ? "The database did not answer in time; the request can be sent again." : "The database is unavailable.",
            "database-unavailable"),
        _ => null,
    };

    /// <summary>The message without an out-of-range exception's "Actual value" line: the value is the caller's own input.</summary>
    private static string InvalidArgumentDetail(ArgumentException e) => e switch
    {
        ArgumentOutOfRangeException { ActualValue: not null } => e.Message.Split(Environment.NewLine)[0],
        _ => e.Message,
    };

    private static ProblemDetails Problem(int status, string title, string detail, string kind, string? parameter = null)
    {
        var problem = new ProblemDetails
        {
            Status = status,
            Title = title,
            Detail = detail,
        };
        problem.Extensions["kind"] = kind;
        if (parameter is not null)
        {
            problem.Extensions["parameter"] = parameter;
        }

        return problem;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database unavailable during {Operation} (transient: {IsTransient}, {ExceptionType})")]
    private static partial void LogInfrastructureFailure(ILogger logger, string? operation, bool isTransient, string exceptionType);
}
