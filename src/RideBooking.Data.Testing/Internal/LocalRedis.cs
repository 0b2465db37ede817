using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RideBooking.Data.Testing.Internal;

/// <summary>
/// A throwaway redis-server: its own folder under the kit's temporary root, a free port of 127.0.0.1, no persistence.
/// Like <see cref="LocalServer"/>, a watchdog shell stops the server and deletes the folder as soon as the owning
/// process is gone, even when it crashed; folders of owners that are gone are cleaned at the next start as well.
/// </summary>
internal sealed class LocalRedis
{
    private const string FolderPrefix = "redis-";

    private readonly string _binary;
    private int _serverPid;

    private LocalRedis(string binary, string folder, int port)
    {
        _binary = binary;
        Folder = folder;
        Port = port;
    }

    public string Folder { get; }

    public int Port { get; }

    public bool IsRunning => LocalServer.IsAlive(_serverPid);

    /// <summary>PATH first, then the folders the redis-server package usually installs to.</summary>
    public static string? FindBinary()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        string[] usual = ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/opt/homebrew/bin"];
        return path.Concat(usual).Select(directory => Path.Combine(directory, "redis-server")).FirstOrDefault(File.Exists);
    }

    public static async Task<LocalRedis> StartAsync(string binary, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(LocalServer.RootFolder);
        CleanStaleFolders();
        var folder = Path.Combine(LocalServer.RootFolder, $"{FolderPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "owner.pid"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);

        // A free port can be taken by someone else between probing and binding: try a few.
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var redis = new LocalRedis(binary, folder, FreeLoopbackPort());
            try
            {
                await redis.LaunchAsync(cancellationToken).ConfigureAwait(false);
                AppDomain.CurrentDomain.ProcessExit += (_, _) => redis.Delete();
                return redis;
            }
            catch (InvalidOperationException ex)
            {
                last = ex;
            }
        }

        Delete(folder);
        throw last!;
    }

    /// <summary>Starts the server (again) on this instance's port, empty, and waits until it answers PING.</summary>
    public async Task LaunchAsync(CancellationToken cancellationToken)
    {
        var pidFile = Path.Combine(Folder, "server.pid");
        var log = Path.Combine(Folder, $"redis-{Port}.log");
        // No persistence: nothing is saved or loaded, so a restarted server is empty.
        string[] serverArgs = ["--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no", "--dir", Folder, "--logfile", log, "--daemonize", "no"];
        LocalServer.StartWatched(Folder, pidFile, _binary, serverArgs);

        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var pid = File.Exists(pidFile) ? LocalServer.ReadPid(pidFile) : 0;
            if (stopwatch.Elapsed > TimeSpan.FromSeconds(30) || (pid > 0 && !LocalServer.IsAlive(pid)))
            {
                Kill(pid);
                throw new InvalidOperationException($"The throwaway redis-server {_binary} did not start on 127.0.0.1:{Port}:{Environment.NewLine}{await LocalServer.TailOfFileAsync(log, cancellationToken).ConfigureAwait(false)}");
            }

            // Another redis-server started at the same moment may have bound this port first (ours then exits): only
            // a server whose process id is ours counts.
            if (pid > 0 && await PingAsync(Port, cancellationToken).ConfigureAwait(false) && await ProcessIdAsync(Port, cancellationToken).ConfigureAwait(false) == pid)
            {
                _serverPid = pid;
                return;
            }

            await Task.Delay(25, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Kills the server (its watchdog then ends and leaves the folder, whose owner is still alive).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Kill(_serverPid);
        // The port is free once nothing answers on it any more.
        while (await PingAsync(Port, cancellationToken).ConfigureAwait(false))
        {
            await Task.Delay(25, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Delete()
    {
        Kill(_serverPid);
        Delete(Folder);
    }

    /// <summary>Stops servers whose owning process is gone and deletes their folders.</summary>
    private static void CleanStaleFolders()
    {
        foreach (var folder in Directory.EnumerateDirectories(LocalServer.RootFolder, FolderPrefix + "*"))
        {
            var ownerFile = Path.Combine(folder, "owner.pid");
            var owner = File.Exists(ownerFile) ? LocalServer.ReadPid(ownerFile) : 0;
            var stale = owner > 0 ? !LocalServer.IsAlive(owner) : Directory.GetLastWriteTimeUtc(folder) < DateTime.UtcNow.AddHours(-1);
            if (stale)
            {
                Kill(LocalServer.ReadPid(Path.Combine(folder, "server.pid")));
                Delete(folder);
            }
        }
    }

    private static void Delete(string folder)
    {
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

    /// <summary>True when a Redis server answers PING on the loopback port.</summary>
    /// <summary>The process id that the server on <paramref name="port"/> reports (INFO server), or 0.</summary>
    private static async Task<int> ProcessIdAsync(int port, CancellationToken cancellationToken)
    {
        const string Field = "process_id:";
        var info = await AskAsync(port, "INFO server\r\n"u8.ToArray(), reply => reply.IndexOf(Field, StringComparison.Ordinal) is var at && at >= 0 && reply.IndexOf('\r', at) > 0, cancellationToken).ConfigureAwait(false);
        if (info is null || info.IndexOf(Field, StringComparison.Ordinal) is not (>= 0 and var at))
        {
            return 0;
        }

        var value = info.AsSpan(at + Field.Length, info.IndexOf('\r', at) - at - Field.Length);
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : 0;
    }

    internal static async Task<bool> PingAsync(int port, CancellationToken cancellationToken) =>
        (await AskAsync(port, "PING\r\n"u8.ToArray(), reply => reply.Contains('\n', StringComparison.Ordinal), cancellationToken).ConfigureAwait(false))?.StartsWith("+PONG", StringComparison.Ordinal) == true;

    /// <summary>
    /// Sends one command to the server on <paramref name="port"/> and reads its reply until <paramref name="complete"/>
    /// holds (at most 64 KB, 2 seconds); <see langword="null"/> when nothing answers.
    /// </summary>
    private static async Task<string?> AskAsync(int port, byte[] command, Func<string, bool> complete, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token).ConfigureAwait(false);
            var stream = client.GetStream();
            await stream.WriteAsync(command, timeout.Token).ConfigureAwait(false);
            var reply = new StringBuilder();
            var buffer = new byte[4096];
            while (reply.Length < 65_536)
            {
                var read = await stream.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
                if (complete(reply.ToString()))
                {
                    break;
                }
            }

            return reply.ToString();
        }
        catch (Exception ex) when (ex is SocketException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null;
        }
    }

    /// <summary>Kills a redis-server by pid (never another program that may have reused the pid).</summary>
    private static void Kill(int pid)
    {
        if (!LocalServer.IsAlive(pid))
        {
            return;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            if (process.ProcessName.Contains("redis", StringComparison.Ordinal))
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
}
