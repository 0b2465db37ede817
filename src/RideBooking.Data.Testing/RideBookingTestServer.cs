using System.Diagnostics;
using System.Globalization;
using MySqlConnector;
using RideBooking.Data.Testing.Internal;

namespace RideBooking.Data.Testing;

/// <summary>
/// A dedicated throwaway server of its own (a local mariadbd or mysqld binary), for fault tests that stop, crash and
/// restart it: never the shared server of <see cref="RideBookingTestDatabase"/> that other tests use at the same time.
/// It keeps its port and data folder across restarts, so connection strings and pooled connections stay pointed at it.
/// </summary>
public sealed class RideBookingTestServer : IAsyncDisposable
{
    private readonly LocalServerFlavor _flavor;
    private readonly string _folder;
    private readonly LocalServerSettings _settings;
    private bool _disposed;

    private RideBookingTestServer(LocalServerFlavor flavor, string folder, LocalServerSettings settings, LocalServerInstance instance, string connectionString)
    {
        _flavor = flavor;
        _folder = folder;
        _settings = settings;
        Port = instance.Port;
        ServerConnectionString = instance.ConnectionString;
        ConnectionString = connectionString;
        Description = instance.Description;
    }

    /// <summary>Gets a connection string to the database that holds the schema (user root, no password, loopback only).</summary>
    public string ConnectionString { get; }

    /// <summary>Gets a connection string to the server without a database, for checks from outside (processlist, innodb_trx).</summary>
    public string ServerConnectionString { get; }

    /// <summary>Gets the loopback port the server listens on, the same after every restart.</summary>
    public int Port { get; }

    /// <summary>Gets the server's version and endpoint, without credentials.</summary>
    public string Description { get; }

    /// <summary>Gets the process id of the running server; 0 while it is stopped.</summary>
    public int ProcessId => LocalServer.ReadPid(PidFile) is var pid && LocalServer.IsAlive(pid) ? pid : 0;

    private string PidFile => Path.Combine(_folder, "server.pid");

    /// <summary>Starts a new server with the schema applied to a database of its own.</summary>
    /// <param name="serverOptions">Further server options, for example <c>--wait-timeout=2</c> or <c>--innodb-lock-wait-timeout=1</c>.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The running server; dispose it to stop it and delete its folder.</returns>
    /// <exception cref="InvalidOperationException">No local server binary was found; the message says how to install one.</exception>
    public static async Task<RideBookingTestServer> StartAsync(IEnumerable<string>? serverOptions = null, CancellationToken ct = default)
    {
        var binary = LocalServer.FindBinary(LocalServer.DefaultDirectories())
            ?? throw new InvalidOperationException(
                "Fault tests need a MariaDB or MySQL server binary of their own (mariadbd or mysqld on PATH or in /usr/sbin), which they stop, crash and restart; " +
                "a shared server or a container cannot be used. Install one, for example 'apt-get install mariadb-server' on Debian or Ubuntu (.ci/ensure-server does this in CI).");
        var flavor = await LocalServer.DetectAsync(binary, ct).ConfigureAwait(false);
        var folder = await LocalServer.NewFolderAsync(ct).ConfigureAwait(false);
        var settings = LocalServerSettings.Single with { Arguments = [.. LocalServerSettings.Single.Arguments, .. serverOptions ?? []] };
        await LocalServer.InitializeAsync(flavor, LocalServer.DataFolder(folder), settings, ct).ConfigureAwait(false);
        var instance = await LocalServer.LaunchAsync(flavor, folder, settings, ct).ConfigureAwait(false);
        const string Database = "ridebooking";
        await Sql.CreateDatabaseAsync(instance.ConnectionString, Database, ct).ConfigureAwait(false);
        var connectionString = Sql.WithDatabase(instance.ConnectionString, Database);
        await RideBookingSchema.ApplyAsync(connectionString, ct).ConfigureAwait(false);
        return new RideBookingTestServer(flavor, folder, settings, instance, connectionString);
    }

    /// <summary>Stops the server with SIGTERM (a clean shutdown) and waits until it has exited.</summary>
    /// <param name="ct">Cancels the wait.</param>
    /// <returns>A task that completes when the server is gone.</returns>
    public Task StopAsync(CancellationToken ct = default) => SignalAsync("TERM", ct);

    /// <summary>Kills the server with SIGKILL (a crash: nothing is flushed, InnoDB recovers at the next start) and waits until it is gone.</summary>
    /// <param name="ct">Cancels the wait.</param>
    /// <returns>A task that completes when the server is gone.</returns>
    public Task KillAsync(CancellationToken ct = default) => SignalAsync("KILL", ct);

    /// <summary>Starts the stopped server again on the same port and data folder, and waits until it accepts connections.</summary>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>A task that completes when the server answers.</returns>
    public async Task StartAgainAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // The port can stay busy for a moment after the old process is gone.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await LocalServer.LaunchOnPortAsync(_flavor, _folder, _settings, Port, ct).ConfigureAwait(false);
                return;
            }
            catch (InvalidOperationException) when (attempt < 5)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>SIGTERM, then start again on the same port and data folder.</summary>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>A task that completes when the server answers again.</returns>
    public async Task RestartAsync(CancellationToken ct = default)
    {
        await StopAsync(ct).ConfigureAwait(false);
        await StartAgainAsync(ct).ConfigureAwait(false);
    }

    /// <summary>SIGKILL, then start again on the same port and data folder (after InnoDB's crash recovery).</summary>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>A task that completes when the server answers again.</returns>
    public async Task CrashAndRestartAsync(CancellationToken ct = default)
    {
        await KillAsync(ct).ConfigureAwait(false);
        await StartAgainAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Opens a connection to the schema's database, from outside the library (for checks).</summary>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>An open connection; the caller disposes it.</returns>
    public async Task<MySqlConnection> OpenAsync(CancellationToken ct = default)
    {
        var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync(ct).ConfigureAwait(false);
        return connection;
    }

    /// <summary>Stops the server and deletes its folder.</summary>
    /// <returns>A task that completes when the server is gone.</returns>
    public ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            MySqlConnection.ClearAllPools();
            LocalServer.Stop(ProcessId, _folder);
        }

        return ValueTask.CompletedTask;
    }

    private async Task SignalAsync(string signal, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var pid = ProcessId;
        if (pid == 0)
        {
            return;
        }

        var start = new ProcessStartInfo("kill") { UseShellExecute = false };
        start.ArgumentList.Add("-" + signal);
        start.ArgumentList.Add(pid.ToString(CultureInfo.InvariantCulture));
        using (var kill = Process.Start(start) ?? throw new InvalidOperationException("Could not run kill."))
        {
            await kill.WaitForExitAsync(ct).ConfigureAwait(false);
        }

        // A clean shutdown of a busy server can take a while; a crash is immediate.
        var stopwatch = Stopwatch.StartNew();
        while (LocalServer.IsAlive(pid))
        {
            if (stopwatch.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new InvalidOperationException($"The test server (pid {pid}) did not exit within 2 minutes of SIG{signal}.");
            }

            await Task.Delay(20, ct).ConfigureAwait(false);
        }
    }
}
