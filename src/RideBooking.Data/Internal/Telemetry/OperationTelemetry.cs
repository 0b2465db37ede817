using System.Diagnostics;

namespace RideBooking.Data.Internal;

/// <summary>
/// What the instrumentation layer shares: the library's <see cref="ActivitySource"/> (one span per public operation), the
/// duration histogram, the outcome names and the shard of an operation. The layer is the outermost decorator around each
/// public interface (see <see cref="RideBookingServiceCollectionExtensions"/>); the core implementations know nothing of it.
/// </summary>
internal sealed class OperationTelemetry(RideBookingMetrics metrics, ShardResolver shards)
{
    /// <summary>The library's activity source, "RideBooking.Data", shared by every service provider of the process (as activity sources usually are).</summary>
    internal static readonly ActivitySource Source = new(RideBookingTelemetry.ActivitySourceName, typeof(OperationTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Tag names, the same on spans and on the duration histogram.</summary>
    internal const string OperationTag = "operation";
    internal const string ShardTag = "shard";
    internal const string OutcomeTag = "outcome";
    internal const string ErrorTypeTag = "error.type";

    /// <summary>
    /// Gets a value indicating whether anybody listens to the spans or the duration histogram. When nobody does, the
    /// decorators call the core directly: no timestamp, no activity, no async state machine of their own.
    /// </summary>
    public bool IsEnabled => Source.HasListeners() || metrics.OperationDurationEnabled;

    /// <summary>The physical shard of an id for the <c>shard</c> tag; -1 when none can be named without waiting.</summary>
    public int ShardOf(long id) => shards.PhysicalShardForTelemetry(id);

    /// <summary>The outcome of a failed operation: a business refusal names its kind, an infrastructure failure is "infrastructure".</summary>
    internal static string OutcomeOf(Exception exception) => exception switch
    {
        EntityNotFoundException => Outcomes.NotFound,
        DriverUnavailableException => Outcomes.DriverUnavailable,
        ActiveRideExistsException => Outcomes.ActiveRideExists,
        InvalidRideStateException => Outcomes.InvalidState,
        PaymentConflictException => Outcomes.PaymentConflict,
        DuplicatePhoneException => Outcomes.DuplicatePhone,
        RideBookingException => Outcomes.Conflict,
        ArgumentException => Outcomes.InvalidArgument,
        OperationCanceledException => Outcomes.Cancelled,
        RideBookingInfrastructureException => Outcomes.Infrastructure,
        _ => Outcomes.Error,
    };

    /// <summary>
    /// Runs one public operation inside its span and measures it. Only called when <see cref="IsEnabled"/>. Tags hold the
    /// operation, the physical shard (when one applies) and the outcome, never an argument's value: no names, phones,
    /// vehicle numbers or transaction ids.
    /// </summary>
    /// <param name="operation">The operation's name, also the span's name ("BookRide").</param>
    /// <param name="state">The arguments, passed to the static delegates so that nothing is captured.</param>
    /// <param name="call">Calls the layer inside.</param>
    /// <param name="shardOf">The physical shard from the arguments or the result (the result is default when the call failed); -1 for none.</param>
    /// <param name="cancellationToken">Passed to <paramref name="call"/>.</param>
    /// <param name="enrich">Adds operation-specific tags to a recorded span after success.</param>
    public async Task<T> RunAsync<TState, T>(
        string operation,
        TState state,
        Func<TState, CancellationToken, Task<T>> call,
        Func<OperationTelemetry, TState, T?, int>? shardOf,
        CancellationToken cancellationToken,
        Action<OperationTelemetry, Activity, TState, T>? enrich = null)
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = Source.StartActivity(operation, ActivityKind.Internal);
        activity?.SetTag(OperationTag, operation);
        T result;
        try
        {
            result = await call(state, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            var outcome = OutcomeOf(ex);
            var shard = shardOf?.Invoke(this, state, default) ?? -1;
            if (activity is not null)
            {
                Tag(activity, shard, outcome);
                activity.SetTag(ErrorTypeTag, ex.GetType().FullName);
                if (outcome is Outcomes.Infrastructure or Outcomes.Error)
                {
                    // The type only: a message may name ids the caller passed.
                    activity.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
                }
            }

            metrics.OperationDuration(Stopwatch.GetElapsedTime(started).TotalSeconds, operation, outcome, shard);
            throw;
        }

        {
            var outcome = result is null ? Outcomes.NotFound : Outcomes.Ok;
            var shard = shardOf?.Invoke(this, state, result) ?? -1;
            if (activity is not null)
            {
                Tag(activity, shard, outcome);
                if (enrich is not null && activity.IsAllDataRequested)
                {
                    enrich(this, activity, state, result);
                }
            }

            metrics.OperationDuration(Stopwatch.GetElapsedTime(started).TotalSeconds, operation, outcome, shard);
            return result;
        }
    }

    private static void Tag(Activity activity, int shard, string outcome)
    {
        if (shard >= 0)
        {
            activity.SetTag(ShardTag, shard);
        }

        activity.SetTag(OutcomeTag, outcome);
    }

    /// <summary>The values of the <c>outcome</c> tag.</summary>
    internal static class Outcomes
    {
        public const string Ok = "ok";
        public const string NotFound = "not_found";
        public const string DriverUnavailable = "driver_unavailable";
        public const string ActiveRideExists = "active_ride_exists";
        public const string InvalidState = "invalid_state";
        public const string PaymentConflict = "payment_conflict";
        public const string DuplicatePhone = "duplicate_phone";
        public const string Conflict = "conflict";
        public const string InvalidArgument = "invalid_argument";
        public const string Cancelled = "cancelled";
        public const string Infrastructure = "infrastructure";
        public const string Error = "error";
    }
}
