using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MySqlConnector;

namespace RideBooking.Data.Testing.Internal;

/// <summary>
/// A throwaway mariadbd/mysqld: initialized in a temporary folder, listening on a free port of
/// 127.0.0.1 only, killed and deleted when the process exits. A watchdog shell outlives a crashed
/// owner just long enough to stop the server and delete the folder; folders of owners that are gone
/// are cleaned at the next start as well.
/// </summary>
internal static class LocalServer
{
    private static readonly string[] BinaryNames = ["mariadbd", "mysqld"];

    /// <summary>PATH first, then the folders server packages usually install to.</summary>
    public static IReadOnlyList<string> DefaultDirectories()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        string[] usual = ["/usr/sbin", "/usr/local/sbin", "/usr/libexec", "/usr/local/mysql/bin", "/usr/local/mariadb/bin", "/opt/homebrew/sbin", "/opt/homebrew/bin", "/usr/local/opt/mariadb/bin", "/usr/local/opt/mysql/bin"];
        return [.. path.Concat(usual).Distinct(StringComparer.Ordinal)];
    }

    public static string? FindBinary(IEnumerable<string> directories)
    {
        var list = directories.ToList();
        foreach (var name in BinaryNames)
        {
            foreach (var directory in list)
            {
                var candidate = Path.Combine(directory, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    public static string RootFolder => Path.Combine(Path.GetTempPath(), "ridebooking-testkit");

    public static async Task<TestServer> StartAsync(string binary, CancellationToken ct)
    {
        var flavor = await DetectAsync(binary, ct).ConfigureAwait(false);
        var folder = await NewFolderAsync(ct).ConfigureAwait(false);
        await InitializeAsync(flavor, DataFolder(folder), LocalServerSettings.Single, ct).ConfigureAwait(false);
        var server = await LaunchAsync(flavor, folder, LocalServerSettings.Single, ct).ConfigureAwait(false);
        return new TestServer(server.ConnectionString, TestServerSource.LocalBinary, server.Description);
    }

    /// <summary>Cleans folders of crashed runs and finds out which server the binary is and how to run it.</summary>
    public static async Task<LocalServerFlavor> DetectAsync(string binary, CancellationToken ct)
    {
        Directory.CreateDirectory(RootFolder);
        CleanStaleFolders();
        var isMariaDb = BinaryNames[0] == Path.GetFileName(binary)
            || (await RunAsync(binary, ["--version"], ct).ConfigureAwait(false)).Output.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);
        return new LocalServerFlavor(binary, isMariaDb, RunAsRoot: string.Equals(Environment.UserName, "root", StringComparison.Ordinal));
    }

    /// <summary>A new folder for one server, owned by this process (so that it is cleaned if this process crashes).</summary>
    public static async Task<string> NewFolderAsync(CancellationToken ct)
    {
        var folder = Path.Combine(RootFolder, $"run-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "owner.pid"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        return folder;
    }

    public static string DataFolder(string folder) => Path.Combine(folder, "data");

    /// <summary>The server's own temporary folder, beside its data folder.</summary>
    public static string TempFolder(string folder) => Path.Combine(folder, "tmp");

    /// <summary>
    /// Copies an initialized, stopped data folder: much faster than initializing another one. MySQL's
    /// auto.cnf is left out so that every copy gets its own server_uuid (GTIDs depend on it).
    /// </summary>
    public static void CopyDataFolder(string from, string to)
    {
        foreach (var directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories).Prepend(from))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        }

        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (!string.Equals(relative, "auto.cnf", StringComparison.Ordinal))
            {
                File.Copy(file, Path.Combine(to, relative));
            }
        }
    }

    /// <summary>Initializes a data folder with a password-less root.</summary>
    public static async Task InitializeAsync(LocalServerFlavor flavor, string data, LocalServerSettings settings, CancellationToken ct)
    {
        // Every server of the kit gets a temporary folder of its own: several servers initialized at once in the shared
        // system folder can trip over each other's temporary tables.
        var temporary = TempFolder(Path.GetDirectoryName(data)!);
        Directory.CreateDirectory(temporary);
        var binary = flavor.Binary;
        (int ExitCode, string Output) result;
        if (flavor.IsMariaDb)
        {
            var installer = FindInstaller(binary)
                ?? throw new InvalidOperationException($"Found {binary} but not mariadb-install-db next to it or on PATH; install the full MariaDB server package.");
            List<string> args = ["--no-defaults", $"--datadir={data}", $"--tmpdir={temporary}", "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve", .. settings.RedoLogArguments(flavor)];
            if (flavor.RunAsRoot)
            {
                args.Add("--user=root");
            }

            // The installer looks for the server under --basedir; point it at the binary's prefix.
            var prefix = Path.GetDirectoryName(Path.GetDirectoryName(binary));
            if (prefix is not null && !File.Exists(Path.Combine(prefix, "bin", "my_print_defaults")) && File.Exists("/usr/bin/my_print_defaults"))
            {
                prefix = "/usr";
            }

            if (prefix is not null)
            {
                args.Add($"--basedir={prefix}");
            }

            result = await RunAsync(installer, args, ct).ConfigureAwait(false);
        }
        else
        {
            List<string> args = ["--no-defaults", "--initialize-insecure", $"--datadir={data}", $"--tmpdir={temporary}", .. settings.RedoLogArguments(flavor)];
            if (flavor.RunAsRoot)
            {
                args.Add("--user=root");
            }

            result = await RunAsync(binary, args, ct).ConfigureAwait(false);
        }

        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"Initializing a throwaway server data folder with {binary} failed (exit code {result.ExitCode}):{Environment.NewLine}{Tail(result.Output)}");
        }
    }

    /// <summary>Starts the server of an initialized folder on a free loopback port and waits until it accepts connections.</summary>
    public static async Task<LocalServerInstance> LaunchAsync(LocalServerFlavor flavor, string folder, LocalServerSettings settings, CancellationToken ct)
    {
        // A free port can be taken by someone else between probing and binding: try a few.
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var port = FreeLoopbackPort();
            try
            {
                return await LaunchOnPortAsync(flavor, folder, settings, port, ct).ConfigureAwait(false);
            }
            catch (InvalidOperationException ex)
            {
                last = ex;
            }
        }

        throw last!;
    }

    internal static async Task<LocalServerInstance> LaunchOnPortAsync(LocalServerFlavor flavor, string folder, LocalServerSettings settings, int port, CancellationToken ct)
    {
        var binary = flavor.Binary;
        Directory.CreateDirectory(TempFolder(folder));
        var errorLog = Path.Combine(folder, $"error-{port}.log");
        var serverPidFile = Path.Combine(folder, "server.pid");
        List<string> serverArgs =
        [
            "--no-defaults",
            $"--datadir={DataFolder(folder)}",
            $"--tmpdir={TempFolder(folder)}",
            $"--socket={Path.Combine(folder, "mysqld.sock")}",
            $"--port={port}",
            "--bind-address=127.0.0.1",
            $"--pid-file={Path.Combine(folder, "mysqld.pid")}",
            $"--log-error={errorLog}",
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            $"--max-connections={settings.MaxConnections}",
            $"--innodb-buffer-pool-size={settings.BufferPoolSize}",
            .. settings.RedoLogArguments(flavor),
            // A throwaway server: durability of each commit on disk is not needed.
            "--innodb-flush-log-at-trx-commit=2",
            .. settings.Arguments,
        ];
        if (!flavor.IsMariaDb)
        {
            serverArgs.Add("--mysqlx=OFF");
        }

        if (flavor.RunAsRoot)
        {
            serverArgs.Add("--user=root");
        }

        StartWatched(folder, serverPidFile, binary, serverArgs);

        var builder = new MySqlConnectionStringBuilder
        {
            Server = "127.0.0.1",
            Port = (uint)port,
            UserID = "root",
            Password = string.Empty,
            MaximumPoolSize = 200,
        };
        // Tests get the default connect timeout: on a busy 2-core machine (a cluster starting beside the
        // tests) a connection can take more than a couple of seconds. Only the start-up probe is short.
        var connectionString = builder.ConnectionString;
        var probe = new MySqlConnectionStringBuilder(connectionString) { ConnectionTimeout = 2 }.ConnectionString;

        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            // The watchdog may not have finished writing the pid yet: an unreadable pid is "not known yet", not "dead".
            var serverPid = File.Exists(serverPidFile) ? ReadPid(serverPidFile) : 0;
            if (stopwatch.Elapsed > TimeSpan.FromSeconds(60) || (serverPid > 0 && !IsAlive(serverPid)))
            {
                // Never leave a server running on this folder before the next attempt starts another one on it.
                Kill(serverPid);
                throw new InvalidOperationException($"The throwaway server {binary} did not start on 127.0.0.1:{port}:{Environment.NewLine}{await TailOfFileAsync(errorLog, ct).ConfigureAwait(false)}");
            }

            try
            {
                var connection = new MySqlConnection(probe);
                await using (connection.ConfigureAwait(false))
                {
                    await connection.OpenAsync(ct).ConfigureAwait(false);

                    // Another server started at the same moment may have bound this port first (ours then fails to bind
                    // and exits): only a server that names this folder's pid file is ours.
                    using (var whoami = new MySqlCommand("SELECT @@pid_file", connection))
                    {
                        var pidFile = Convert.ToString(await whoami.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
                        if (!string.Equals(pidFile, Path.Combine(folder, "mysqld.pid"), StringComparison.Ordinal))
                        {
                            await Task.Delay(50, ct).ConfigureAwait(false);
                            continue;
                        }
                    }

                    var runningPid = ReadPid(serverPidFile);
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop(runningPid, folder);
                    var version = await TestServerLocator.ServerVersionAsync(connection, ct).ConfigureAwait(false);
                    return new LocalServerInstance(connectionString, port, $"{version} on 127.0.0.1:{port} (local {Path.GetFileName(binary)})");
                }
            }
            catch (MySqlException)
            {
                await Task.Delay(50, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The file in a server's folder that receives what the server writes to its standard output and error.</summary>
    internal const string OutputFile = "server.out";

    /// <summary>
    /// Starts <paramref name="binary"/> under a shell watchdog: the watchdog records the server's pid in
    /// <paramref name="pidFile"/> (deleted first, so that an earlier attempt's pid is never taken for this one), and
    /// kills the server and deletes <paramref name="folder"/> as soon as this process is gone, even when it crashed.
    /// </summary>
    internal static void StartWatched(string folder, string pidFile, string binary, IEnumerable<string> arguments)
    {
        const string Watchdog = $$"""
            exec </dev/null >/dev/null 2>&1
            owner="$1"; folder="$2"; pidfile="$3"; shift 3
            "$@" >>"$folder/{{OutputFile}}" 2>&1 &
            server=$!
            echo "$server" > "$pidfile"
            while kill -0 "$owner" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 1; done
            kill -9 "$server" 2>/dev/null
            wait "$server" 2>/dev/null
            if ! kill -0 "$owner" 2>/dev/null; then rm -rf "$folder"; fi
            """;
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        File.Delete(pidFile);
        foreach (var arg in (string[])["-c", Watchdog, "ridebooking-testkit-watchdog", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), folder, pidFile, binary, .. arguments])
        {
            start.ArgumentList.Add(arg);
        }

        using var watchdog = Process.Start(start) ?? throw new InvalidOperationException("Could not start /bin/sh.");
        watchdog.StandardInput.Close();
    }

    /// <summary>Stops servers whose owning process is gone and deletes their folders.</summary>
    internal static void CleanStaleFolders()
    {
        if (!Directory.Exists(RootFolder))
        {
            return;
        }

        foreach (var folder in Directory.EnumerateDirectories(RootFolder, "run-*"))
        {
            var ownerFile = Path.Combine(folder, "owner.pid");
            // A folder another process has just created may not have its owner written yet (no file, or an
            // empty one): only a readable owner that is gone, or a folder an hour old, is stale.
            var owner = File.Exists(ownerFile) ? ReadPid(ownerFile) : 0;
            var stale = owner > 0
                ? !IsAlive(owner)
                : Directory.GetLastWriteTimeUtc(folder) < DateTime.UtcNow.AddHours(-1);
            if (stale)
            {
                Stop(ReadPid(Path.Combine(folder, "server.pid")), folder);
            }
        }
    }

    internal static void Stop(int serverPid, string folder)
    {
        Kill(serverPid);
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Already gone, or the watchdog is deleting it right now.
        }
        catch (UnauthorizedAccessException)
        {
            // Not ours to delete; leave it.
        }
    }

    internal static int ReadPid(string file)
    {
        try
        {
            return int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    internal static bool IsAlive(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void Kill(int pid)
    {
        if (!IsAlive(pid))
        {
            return;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            var name = process.ProcessName;
            if (name.Contains("mariadbd", StringComparison.Ordinal) || name.Contains("mysqld", StringComparison.Ordinal))
            {
                process.Kill();
                process.WaitForExit(5000);
            }
        }
        catch (ArgumentException)
        {
        }
        catch (InvalidOperationException)
        {
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }

    private static string? FindInstaller(string binary)
    {
        var own = Path.GetDirectoryName(binary)!;
        var siblings = new[] { own, Path.Combine(Path.GetDirectoryName(own) ?? own, "bin"), Path.Combine(Path.GetDirectoryName(own) ?? own, "scripts") };
        var path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (var name in (string[])["mariadb-install-db", "mysql_install_db"])
        {
            foreach (var directory in siblings.Concat(path).Append("/usr/bin"))
            {
                var candidate = Path.Combine(directory, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static int FreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> args, CancellationToken ct)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct).ConfigureAwait(false);
        return (process.ExitCode, await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false));
    }

    /// <summary>The last 25 lines of a server's output or log, for an error message.</summary>
    private static string Tail(string text)
    {
        var lines = text.Split('\n');
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 25)));
    }

    /// <summary>The last 25 lines of a file (a server's log), or a note that it does not exist.</summary>
    internal static async Task<string> TailOfFileAsync(string path, CancellationToken ct) =>
        File.Exists(path) ? Tail(await File.ReadAllTextAsync(path, ct).ConfigureAwait(false)) : $"(no {Path.GetFileName(path)})";
}

/// <summary>Which server a binary is and how it must be run.</summary>
internal sealed record LocalServerFlavor(string Binary, bool IsMariaDb, bool RunAsRoot);

/// <summary>A started local server.</summary>
/// <param name="ConnectionString">Root, no password, no database.</param>
/// <param name="Port">The loopback port it listens on.</param>
/// <param name="Description">Version and endpoint, without credentials.</param>
internal sealed record LocalServerInstance(string ConnectionString, int Port, string Description);

/// <summary>The sizes of one server and the options of its role (binary log, replication).</summary>
/// <param name="MaxConnections">max_connections.</param>
/// <param name="BufferPoolSize">innodb_buffer_pool_size.</param>
/// <param name="RedoLogSize">The redo log size, or <see langword="null"/> for the server's default.</param>
/// <param name="Arguments">Further server options.</param>
internal sealed record LocalServerSettings(int MaxConnections, string BufferPoolSize, string? RedoLogSize, IReadOnlyList<string> Arguments)
{
    /// <summary>The one server of <see cref="RideBookingTestDatabase"/>: no binary log, room for concurrency tests.</summary>
    public static LocalServerSettings Single { get; } = new(500, "512M", null, ["--skip-log-bin"]);

    /// <summary>The redo log option, spelled as the flavor wants it (MySQL 8.0.30 and later size it by capacity).</summary>
    public IEnumerable<string> RedoLogArguments(LocalServerFlavor flavor) =>
        RedoLogSize is null ? [] : [flavor.IsMariaDb ? $"--innodb-log-file-size={RedoLogSize}" : $"--innodb-redo-log-capacity={RedoLogSize}"];
}
