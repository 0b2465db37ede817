using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace RideBooking.Data.Internal;

/// <summary>One kind of interrupted work that the recovery pass repairs.</summary>
internal interface IRecoveryStep
{
    /// <summary>Repairs the interrupted work of this kind started before <paramref name="cutoff"/> (UTC); returns the repairs made.</summary>
    Task<int> RunAsync(DateTime cutoff, CancellationToken ct);
}

/// <summary>Runs every recovery step once.</summary>
internal sealed partial class RideBookingRecovery(IEnumerable<IRecoveryStep> steps, IOptions<RideBookingOptions> options, TimeProvider time, ILoggerFactory? loggerFactory = null) : IRideBookingRecovery
{
    private readonly ILogger _logger = (ILogger?)loggerFactory?.CreateLogger<RideBookingRecovery>() ?? NullLogger.Instance;

    /// <summary>How many times a pass that failed on a connection runs again before the failure reaches the caller.</summary>
    internal const int PassRetries = 2;

    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await RunCoreAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (attempt <= PassRetries && IsTransientFailure(ex) && !cancellationToken.IsCancellationRequested)
            {
                // A pooled session the server had closed (a restart, wait_timeout, a killed session) fails the first
                // statement sent on it; the broken session is not reused. Every step is idempotent and safe to run again,
                // so the whole pass runs again on new connections.
                LogPassRetried(_logger, ex.GetType().Name, InfrastructureErrors.ErrorNumber(ex) ?? (ex as RideBookingInfrastructureException)?.ErrorNumber ?? 0, attempt);
            }
            catch (Exception ex) when (InfrastructureErrors.IsDriverFailure(ex) && !cancellationToken.IsCancellationRequested)
            {
                // Steps that read with their own connections: no raw driver exception reaches the caller.
                throw InfrastructureErrors.Translate("Recovery", ex);
            }
        }
    }

    private static bool IsTransientFailure(Exception ex) =>
        (InfrastructureErrors.IsDriverFailure(ex) && InfrastructureErrors.IsTransient(ex)) || ex is RideBookingInfrastructureException { IsTransient: true };

    private async Task<int> RunCoreAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.UtcNow() - options.Value.RecoveryGracePeriod;
        var repairs = 0;
        foreach (var step in steps)
        {
            repairs += await step.RunAsync(cutoff, cancellationToken).ConfigureAwait(false);
        }

        if (repairs > 0)
        {
            LogRepairs(_logger, repairs);
        }

        return repairs;
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "RideBooking.Data recovery: repaired {Repairs} interrupted cross-shard operations")]
    private static partial void LogRepairs(ILogger logger, int repairs);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning, Message = "RideBooking.Data recovery: the pass failed on a connection ({Error}, error {ErrorNumber}) and runs again (attempt {Attempt})")]
    private static partial void LogPassRetried(ILogger logger, string error, int errorNumber, int attempt);
}

/// <summary>Runs the recovery pass every <see cref="RideBookingOptions.RecoveryInterval"/> in a host; does nothing when it is not set.</summary>
internal sealed partial class RideBookingRecoveryService(IRideBookingRecovery recovery, IOptions<RideBookingOptions> options, TimeProvider time, ILoggerFactory? loggerFactory = null) : BackgroundService
{
    private readonly ILogger _logger = (ILogger?)loggerFactory?.CreateLogger<RideBookingRecoveryService>() ?? NullLogger.Instance;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.RecoveryInterval is not { } interval)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await recovery.RunAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A failed pass (a shard down) must not stop the next ones; it is logged.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogFailed(_logger, ex.GetType().Name, ex is RideBookingInfrastructureException infrastructure ? infrastructure.Message : string.Empty);
            }

            try
            {
                await Task.Delay(interval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "RideBooking.Data recovery pass failed ({ExceptionType}) {Detail}; trying again at the next interval")]
    private static partial void LogFailed(ILogger logger, string exceptionType, string detail);
}
