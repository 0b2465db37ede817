using RideBooking.Data.Testing.Internal;
using StackExchange.Redis;

namespace RideBooking.Data.Testing;

/// <summary>
/// A Redis server for tests of the RideBooking.Data cache
/// (<see cref="RideBookingCacheServiceCollectionExtensions.AddRideBookingCache(Microsoft.Extensions.DependencyInjection.IServiceCollection, string)"/>).
/// </summary>
/// <remarks>
/// Found in this order: the <c>RIDEBOOKING_REDIS</c> environment variable (a StackExchange.Redis configuration string of an
/// existing server); otherwise a local <c>redis-server</c> binary (Debian's <c>redis-server</c> package), started for this
/// instance in its own temporary folder on a free port of 127.0.0.1 without persistence, and stopped and deleted on
/// dispose or when the process exits, even when it crashes. When neither is available, <see cref="CreateAsync"/> throws an
/// <see cref="InvalidOperationException"/> that says how to provide one. Tests sharing a server should give each cache its
/// own <see cref="RideBookingCacheOptions.KeyPrefix"/>.
/// </remarks>
public sealed class RideBookingTestRedis : IAsyncDisposable
{
    private const string EnvironmentVariableName = "RIDEBOOKING_REDIS";

    private readonly LocalRedis? _local;

    private RideBookingTestRedis(string connectionString, string description, LocalRedis? local)
    {
        ConnectionString = connectionString;
        Description = description;
        _local = local;
    }

    /// <summary>Gets the StackExchange.Redis configuration string of the server (for <see cref="RideBookingCacheOptions.RedisConfiguration"/>).</summary>
    public string ConnectionString { get; }

    /// <summary>Gets a short description of the server, without credentials (for example "redis-server on 127.0.0.1:40123").</summary>
    public string Description { get; }

    /// <summary>Gets a value indicating whether this kit started the server, so that <see cref="StopAsync"/> and <see cref="StartAsync"/> can stop and start it.</summary>
    public bool CanStop => _local is not null;

    /// <summary>Connects to the server named by <c>RIDEBOOKING_REDIS</c>, or starts a throwaway local <c>redis-server</c>.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The server; dispose it to stop and delete a server the kit started.</returns>
    /// <exception cref="InvalidOperationException">No server could be found or started; the message says how to provide one.</exception>
    public static async Task<RideBookingTestRedis> CreateAsync(CancellationToken cancellationToken = default)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariableName);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            var options = ConfigurationOptions.Parse(fromEnvironment);
            var endpoints = string.Join(", ", options.EndPoints.Select(e => e.ToString()));
            options.AbortOnConnectFail = true;
            try
            {
                using var connection = await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(cancellationToken).ConfigureAwait(false);
                await connection.GetDatabase().PingAsync().ConfigureAwait(false);
            }
            catch (RedisException ex)
            {
                // The message names the endpoints only: the configuration string may hold a password.
                throw new InvalidOperationException($"The Redis server from {EnvironmentVariableName} ({endpoints}) did not answer: {ex.GetType().Name}.", ex);
            }

            return new RideBookingTestRedis(fromEnvironment, $"Redis from {EnvironmentVariableName} on {endpoints}", local: null);
        }

        var binary = LocalRedis.FindBinary() ?? throw new InvalidOperationException(
            "No Redis server is available for the RideBooking.Data cache tests. Provide one in either of these ways:" + Environment.NewLine +
            $"  1. set the environment variable {EnvironmentVariableName} to the StackExchange.Redis configuration string of a running server, for example \"127.0.0.1:6379\";" + Environment.NewLine +
            "  2. install a redis-server binary (on PATH or in /usr/bin), for example 'apt-get install redis-server' on Debian or Ubuntu (or run .ci/ensure-redis); the tests start a throwaway instance of it on 127.0.0.1.");
        var local = await LocalRedis.StartAsync(binary, cancellationToken).ConfigureAwait(false);
        return new RideBookingTestRedis($"127.0.0.1:{local.Port}", $"redis-server on 127.0.0.1:{local.Port} (local)", local);
    }

    /// <summary>Stops the server, as an outage would (it answers nothing until <see cref="StartAsync"/>).</summary>
    /// <param name="cancellationToken">Cancels the wait for the port to go quiet.</param>
    /// <returns>A task that completes when the server no longer answers.</returns>
    /// <exception cref="InvalidOperationException">The server came from <c>RIDEBOOKING_REDIS</c>: the kit does not stop servers it did not start.</exception>
    public Task StopAsync(CancellationToken cancellationToken = default) => Local().StopAsync(cancellationToken);

    /// <summary>Starts the stopped server again on the same port, empty (nothing is persisted).</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the server answers again.</returns>
    /// <exception cref="InvalidOperationException">The server came from <c>RIDEBOOKING_REDIS</c>.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        var local = Local();
        if (!local.IsRunning)
        {
            await local.LaunchAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops and deletes a server the kit started; leaves a server from <c>RIDEBOOKING_REDIS</c> alone.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        _local?.Delete();
        return ValueTask.CompletedTask;
    }

    /// <summary>Gets the server the kit started, or <see langword="null"/> for one from <c>RIDEBOOKING_REDIS</c>.</summary>
    internal LocalRedis? StartedServer => _local;

    private LocalRedis Local() => _local ?? throw new InvalidOperationException(
        $"This Redis server came from {EnvironmentVariableName}; only a server the test kit started (redis-server installed, {EnvironmentVariableName} unset) can be stopped and started.");
}
