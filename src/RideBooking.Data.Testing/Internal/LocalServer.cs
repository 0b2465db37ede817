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
        Directory.CreateDirectory(RootFolder);
        CleanStaleFolders();
        var isMariaDb = BinaryNames[0] == Path.GetFileName(binary)
            || (await RunAsync(binary, ["--version"], ct).ConfigureAwait(false)).Output.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);
        var runAsRoot = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);

        var folder = Path.Combine(RootFolder, $"run-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "owner.pid"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        var data = Path.Combine(folder, "data");

        await InitializeAsync(binary, isMariaDb, runAsRoot, data, ct).ConfigureAwait(false);

        // A free port can be taken by someone else between probing and binding: try a few.
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var port = FreeLoopbackPort();
            try
            {
                return await LaunchAsync(binary, isMariaDb, runAsRoot, folder, data, port, ct).ConfigureAwait(false);
            }
            catch (InvalidOperationException ex)
            {
                last = ex;
            }
        }

        throw last!;
    }

    private static async Task InitializeAsync(string binary, bool isMariaDb, bool runAsRoot, string data, CancellationToken ct)
    {
        (int ExitCode, string Output) result;
        if (isMariaDb)
        {
            var installer = FindInstaller(binary)
                ?? throw new InvalidOperationException($"Found {binary} but not mariadb-install-db next to it or on PATH; install the full MariaDB server package.");
            List<string> args = ["--no-defaults", $"--datadir={data}", "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"];
            if (runAsRoot)
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
            List<string> args = ["--no-defaults", "--initialize-insecure", $"--datadir={data}"];
            if (runAsRoot)
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

    private static async Task<TestServer> LaunchAsync(string binary, bool isMariaDb, bool runAsRoot, string folder, string data, int port, CancellationToken ct)
    {
        var errorLog = Path.Combine(folder, $"error-{port}.log");
        var serverPidFile = Path.Combine(folder, "server.pid");
        List<string> serverArgs =
        [
            "--no-defaults",
            $"--datadir={data}",
            $"--socket={Path.Combine(folder, "mysqld.sock")}",
            $"--port={port}",
            "--bind-address=127.0.0.1",
            $"--pid-file={Path.Combine(folder, "mysqld.pid")}",
            $"--log-error={errorLog}",
            "--skip-name-resolve",
            "--skip-log-bin",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            "--max-connections=500",
            "--innodb-buffer-pool-size=512M",
            // A throwaway server: durability of each commit on disk is not needed.
            "--innodb-flush-log-at-trx-commit=2",
        ];
        if (!isMariaDb)
        {
            serverArgs.Add("--mysqlx=OFF");
        }

        if (runAsRoot)
        {
            serverArgs.Add("--user=root");
        }

        // The watchdog starts the server, records its pid, and stops it and deletes the folder as
        // soon as the owning process is gone, even when that process crashed.
        const string Watchdog = """
            exec </dev/null >/dev/null 2>&1
            owner="$1"; folder="$2"; pidfile="$3"; shift 3
            "$@" &
            server=$!
            echo "$server" > "$pidfile"
            while kill -0 "$owner" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 1; done
            kill -9 "$server" 2>/dev/null
            wait "$server" 2>/dev/null
            if ! kill -0 "$owner" 2>/dev/null; then rm -rf "$folder"; fi
            """;
        var start = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in (string[])["-c", Watchdog, "ridebooking-testkit-watchdog", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), folder, serverPidFile, binary, .. serverArgs])
        {
            start.ArgumentList.Add(arg);
        }

        using (var watchdog = Process.Start(start) ?? throw new InvalidOperationException("Could not start /bin/sh."))
        {
            watchdog.StandardInput.Close();
        }

        var connectionString = new MySqlConnectionStringBuilder
        {
            Server = "127.0.0.1",
            Port = (uint)port,
            UserID = "root",
            Password = string.Empty,
            ConnectionTimeout = 2,
            MaximumPoolSize = 200,
        }.ConnectionString;

        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (stopwatch.Elapsed > TimeSpan.FromSeconds(60) || (File.Exists(serverPidFile) && !IsAlive(ReadPid(serverPidFile))))
            {
                Kill(ReadPid(serverPidFile));
                var log = File.Exists(errorLog) ? await File.ReadAllTextAsync(errorLog, ct).ConfigureAwait(false) : "(no error log)";
                throw new InvalidOperationException($"The throwaway server {binary} did not start on 127.0.0.1:{port}:{Environment.NewLine}{Tail(log)}");
            }

            try
            {
                var connection = new MySqlConnection(connectionString);
                await using (connection.ConfigureAwait(false))
                {
                    await connection.OpenAsync(ct).ConfigureAwait(false);
                    var serverPid = ReadPid(serverPidFile);
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop(serverPid, folder);
                    return new TestServer(connectionString, TestServerSource.LocalBinary, $"{await TestServerLocator.ServerVersionAsync(connection, ct).ConfigureAwait(false)} on 127.0.0.1:{port} (local {Path.GetFileName(binary)})");
                }
            }
            catch (MySqlException)
            {
                await Task.Delay(50, ct).ConfigureAwait(false);
            }
        }
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
            var stale = File.Exists(ownerFile)
                ? !IsAlive(ReadPid(ownerFile))
                : Directory.GetLastWriteTimeUtc(folder) < DateTime.UtcNow.AddHours(-1);
            if (stale)
            {
                Stop(ReadPid(Path.Combine(folder, "server.pid")), folder);
            }
        }
    }

    private static void Stop(int serverPid, string folder)
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

    private static int ReadPid(string file)
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

    private static bool IsAlive(int pid)
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

    private static string Tail(string text)
    {
        var lines = text.Split('\n');
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 25)));
    }
}
