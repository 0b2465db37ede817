using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MySqlConnector;

namespace RideBooking.Data.Testing.Internal;

/// <summary>
/// A multi-primary MariaDB Galera cluster of three nodes for tests: named by <c>RIDEBOOKING_GALERA</c>, or started once
/// per process from the local <c>mariadbd</c> and Galera provider. Each local node listens on its own loopback address
/// (127.0.0.1, 127.0.0.2, 127.0.0.3) with the same client port, so that one connection string can name all of them
/// (MySqlConnector's failover takes one port for every host); replication, IST and SST ports are chosen at run time.
/// Nodes run in temporary folders of their own (as the <c>mysql</c> user when this process is root, so that rsync state
/// transfer can write a joiner's folder), under the same watchdog as <see cref="LocalServer"/>: killed and deleted when
/// the process exits, even when it crashes.
/// </summary>
internal sealed class GaleraCluster
{
    public const string EnvironmentVariableName = "RIDEBOOKING_GALERA";

    public const int NodeCount = 3;

    private static readonly Lazy<Task<GaleraCluster>> SharedCluster = new(() => Task.Run(() => ResolveAsync(CancellationToken.None)));

    private readonly LocalGaleraNode[]? _nodes;
    private readonly string _serverConnectionString;

    private GaleraCluster(string serverConnectionString, IReadOnlyList<string> hosts, LocalGaleraNode[]? nodes, string description, TimeSpan startTime)
    {
        _serverConnectionString = serverConnectionString;
        Hosts = hosts;
        _nodes = nodes;
        Description = description;
        StartTime = startTime;
    }

    /// <summary>Gets the host of each node (node i is <c>Hosts[i]</c>); every node listens on the same port.</summary>
    public IReadOnlyList<string> Hosts { get; }

    /// <summary>Gets a value indicating whether the test kit started the nodes (and can kill and restart them).</summary>
    public bool IsLocal => _nodes is not null;

    /// <summary>Gets versions and endpoints, without credentials.</summary>
    public string Description { get; }

    /// <summary>Gets how long finding or starting the nodes took.</summary>
    public TimeSpan StartTime { get; }

    /// <summary>Finds or starts the shared cluster (once per process; a failure is remembered as well).</summary>
    public static Task<GaleraCluster> SharedAsync(CancellationToken ct) => SharedCluster.Value.WaitAsync(ct);

    /// <summary>A connection string to node <paramref name="node"/> alone.</summary>
    public string Node(int node, string? database = null) =>
        new MySqlConnectionStringBuilder(_serverConnectionString) { Server = Hosts[node], Database = database ?? string.Empty }.ConnectionString;

    /// <summary>A connection string naming every node, starting with <paramref name="first"/>, with failover to the next ones.</summary>
    public string Failover(int first, string? database = null) =>
        new MySqlConnectionStringBuilder(_serverConnectionString)
        {
            Server = string.Join(",", Enumerable.Range(0, Hosts.Count).Select(i => Hosts[(first + i) % Hosts.Count])),
            LoadBalance = MySqlLoadBalance.FailOver,
            Database = database ?? string.Empty,
        }.ConnectionString;

    /// <summary>Creates a database (replicated to every node by the cluster) and returns its name.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken ct)
    {
        var name = Sql.NewDatabaseName();
        await Sql.CreateDatabaseAsync(Node(0), name, ct).ConfigureAwait(false);
        return name;
    }

    /// <summary>Drops a database of <see cref="CreateDatabaseAsync"/>.</summary>
    public Task DropDatabaseAsync(string name, CancellationToken ct) => Sql.DropDatabaseAsync(Failover(0), name, ct);

    /// <summary>Kills node <paramref name="node"/> with SIGKILL (a crash: nothing is flushed, nothing is said to the cluster).</summary>
    public void Kill(int node) => LocalNodes[node].Kill();

    /// <summary>Starts a killed node again and waits until it has rejoined: Synced, in a cluster of every node.</summary>
    /// <returns>How long the rejoin took, from the start of the process to Synced.</returns>
    public Task<TimeSpan> RestartAsync(int node, CancellationToken ct) => LocalNodes[node].StartAsync(bootstrap: false, NodeCount, ct);

    /// <summary>Waits until every node is Synced in a cluster of <see cref="NodeCount"/> nodes.</summary>
    public async Task WaitAllSyncedAsync(TimeSpan timeout, CancellationToken ct)
    {
        for (var i = 0; i < Hosts.Count; i++)
        {
            await WaitSyncedAsync(Node(i), timeout, ct).ConfigureAwait(false);
        }
    }

    private LocalGaleraNode[] LocalNodes => _nodes ?? throw new InvalidOperationException(
        $"Killing and restarting nodes needs the cluster the test kit starts itself; {EnvironmentVariableName} names a cluster it cannot restart. Unset {EnvironmentVariableName} to run these tests.");

    internal static async Task<GaleraCluster> ResolveAsync(CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        var given = Environment.GetEnvironmentVariable(EnvironmentVariableName);
        if (!string.IsNullOrWhiteSpace(given))
        {
            MySqlConnectionStringBuilder builder;
            try
            {
                builder = new MySqlConnectionStringBuilder(given);
            }
            catch (ArgumentException)
            {
                throw new InvalidOperationException($"{EnvironmentVariableName} is not a valid MySQL connection string.");
            }

            var hosts = builder.Server.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (hosts.Length != NodeCount)
            {
                throw new InvalidOperationException($"{EnvironmentVariableName} names {hosts.Length} host(s) in Server; name the {NodeCount} nodes of the cluster, comma-separated, all on the port of the connection string.");
            }

            var cluster = new GaleraCluster(given, hosts, null, $"{NodeCount} nodes from {EnvironmentVariableName} on port {builder.Port}", TimeSpan.Zero);
            await cluster.WaitAllSyncedAsync(TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
            return cluster;
        }

        var binary = LocalServer.FindBinary(LocalServer.DefaultDirectories());
        var provider = FindProvider();
        var rsync = FindOnPath("rsync");
        var sst = binary is null ? null : FindOnPath("wsrep_sst_rsync", Path.GetDirectoryName(binary)!, "/usr/bin");
        var missing = new List<string>();
        if (binary is null || !Path.GetFileName(binary).StartsWith("mariadbd", StringComparison.Ordinal))
        {
            missing.Add("a MariaDB server (mariadbd)");
        }

        if (provider is null)
        {
            missing.Add("the Galera provider (libgalera_smm.so)");
        }

        if (rsync is null || sst is null)
        {
            missing.Add("rsync and wsrep_sst_rsync");
        }

        if (missing.Count > 0)
        {
            throw new InvalidOperationException(NotAvailableMessage(missing, string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)));
        }

        var flavor = await LocalServer.DetectAsync(binary!, ct).ConfigureAwait(false);
        var nodes = await StartLocalAsync(flavor, provider!, ct).ConfigureAwait(false);
        var local = new GaleraCluster(nodes[0].ConnectionString, [.. nodes.Select(n => n.Address)], nodes, $"{NodeCount}-node Galera cluster on 127.0.0.1-3:{nodes[0].ClientPort} (local mariadbd, provider {provider})", stopwatch.Elapsed);
        return local;
    }

    internal static string NotAvailableMessage(IEnumerable<string> missing, bool onCi) =>
        "No MariaDB Galera cluster is available for the multi-primary tests" + (onCi ? " on this CI runner" : string.Empty) + $" (missing: {string.Join(", ", missing)}). Provide one in either of these ways:" + Environment.NewLine +
        $"  1. set {EnvironmentVariableName} to a connection string whose Server names the {NodeCount} nodes of a running cluster, comma-separated, on one port " +
        "(Server=node1,node2,node3;Port=3306;User ID=...;Password=...), whose user may create databases;" + Environment.NewLine +
        "  2. install the packages mariadb-server, galera-4 and rsync (Debian/Ubuntu: run .ci/ensure-galera, or 'apt-get install mariadb-server galera-4 rsync'); " +
        "the tests then start three throwaway nodes on 127.0.0.1, 127.0.0.2 and 127.0.0.3.";

    private static async Task<LocalGaleraNode[]> StartLocalAsync(LocalServerFlavor flavor, string provider, CancellationToken ct)
    {
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            // Four ports free on every node's address: clients, group communication, IST and SST.
            var ports = new int[4];
            for (var i = 0; i < ports.Length; i++)
            {
                ports[i] = FreePort(ports.Take(i));
            }

            var folders = new string[NodeCount];
            for (var i = 0; i < NodeCount; i++)
            {
                folders[i] = await LocalServer.NewFolderAsync(ct).ConfigureAwait(false);
            }

            var settings = new GaleraPorts(ports[0], ports[1], ports[2], ports[3]);
            var nodes = folders.Select((folder, i) => new LocalGaleraNode(flavor, provider, folder, i, settings)).ToArray();
            try
            {
                // The first node bootstraps a new cluster from an initialized folder; the others join it empty and get
                // their data by state transfer, one at a time (a donor serves one joiner at a time).
                await LocalServer.InitializeAsync(flavor, LocalServer.DataFolder(folders[0]), LocalGaleraNode.Settings, ct).ConfigureAwait(false);
                foreach (var node in nodes)
                {
                    await node.StartAsync(bootstrap: node.Index == 0, clusterSize: node.Index + 1, ct).ConfigureAwait(false);
                }

                return nodes;
            }
            catch (InvalidOperationException ex) when (attempt < 2)
            {
                // A port may have been taken between probing and binding: start over on other ports.
                last = ex;
                foreach (var node in nodes)
                {
                    node.Stop();
                }
            }
        }

        throw last!;
    }

    /// <summary>Waits until the node answers Synced in a cluster of <paramref name="clusterSize"/> nodes (every node by default).</summary>
    internal static async Task WaitSyncedAsync(string connectionString, TimeSpan timeout, CancellationToken ct, Func<bool>? alive = null, int clusterSize = NodeCount)
    {
        var probe = new MySqlConnectionStringBuilder(connectionString) { ConnectionTimeout = 2, Pooling = false }.ConnectionString;
        var stopwatch = Stopwatch.StartNew();
        var seen = "no answer";
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (stopwatch.Elapsed > timeout || (alive is not null && !alive()))
            {
                throw new InvalidOperationException($"The Galera node {Sql.Endpoint(connectionString)} did not become Synced in a cluster of {clusterSize} (last seen: {seen}).");
            }

            try
            {
                var connection = new MySqlConnection(probe);
                await using (connection.ConfigureAwait(false))
                {
                    await connection.OpenAsync(ct).ConfigureAwait(false);
                    var command = new MySqlCommand("SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_local_state_comment', 'wsrep_cluster_size', 'wsrep_ready')", connection);
                    await using (command.ConfigureAwait(false))
                    {
                        var status = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                        var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                        await using (reader.ConfigureAwait(false))
                        {
                            while (await reader.ReadAsync(ct).ConfigureAwait(false))
                            {
                                status[reader.GetString(0)] = reader.GetString(1);
                            }
                        }

                        seen = string.Join(", ", status.Select(kv => $"{kv.Key}={kv.Value}"));
                        if (status.GetValueOrDefault("wsrep_local_state_comment") == "Synced"
                            && status.GetValueOrDefault("wsrep_cluster_size") == clusterSize.ToString(CultureInfo.InvariantCulture)
                            && status.GetValueOrDefault("wsrep_ready") == "ON")
                        {
                            return;
                        }
                    }
                }
            }
            catch (MySqlException ex)
            {
                seen = $"error {ex.Number}";
            }

            await Task.Delay(100, ct).ConfigureAwait(false);
        }
    }

    private static string? FindProvider()
    {
        string[] names = ["libgalera_smm.so", "libgalera_enterprise_smm.so", "libgalera_smm.dylib"];
        string[] roots = ["/usr/lib/galera", "/usr/lib/galera-4", "/usr/lib64/galera", "/usr/lib64/galera-4", "/usr/local/lib/galera", "/usr/local/lib/galera-4", "/opt/homebrew/lib", "/usr/local/lib", "/usr/lib64", "/usr/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"];
        foreach (var root in roots)
        {
            foreach (var name in names)
            {
                var candidate = Path.Combine(root, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        // Distributions differ: look one level down under the library folders (for example /usr/lib/<arch>/galera).
        foreach (var root in (string[])["/usr/lib", "/usr/lib64", "/usr/local/lib"])
        {
            if (!Directory.Exists(root))
            {
                continue;
            }

            foreach (var directory in Directory.EnumerateDirectories(root).Where(d => Path.GetFileName(d).Contains("galera", StringComparison.OrdinalIgnoreCase) || Path.GetFileName(d).Contains("linux", StringComparison.Ordinal)))
            {
                foreach (var found in names.Select(name => Path.Combine(directory, name)).Concat(names.Select(name => Path.Combine(directory, "galera", name))))
                {
                    if (File.Exists(found))
                    {
                        return found;
                    }
                }
            }
        }

        return null;
    }

    private static string? FindOnPath(string name, params string[] extra)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return path.Concat(extra).Concat(["/usr/bin", "/usr/local/bin"]).Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
    }

    /// <summary>A port free on all three node addresses, other than the ones already taken.</summary>
    private static int FreePort(IEnumerable<int> taken)
    {
        var excluded = taken.ToHashSet();
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (!excluded.Contains(port) && LocalGaleraNode.Addresses.All(address => IsFree(address, port)))
            {
                return port;
            }
        }

        throw new InvalidOperationException("Found no port free on 127.0.0.1, 127.0.0.2 and 127.0.0.3.");

        static bool IsFree(string address, int port)
        {
            try
            {
                var probe = new TcpListener(IPAddress.Parse(address), port);
                probe.Start();
                probe.Stop();
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }
    }
}

/// <summary>The ports every node uses on its own address.</summary>
internal sealed record GaleraPorts(int Client, int Group, int Ist, int Sst);

/// <summary>One node of the local Galera cluster: its folder, address and process.</summary>
internal sealed class LocalGaleraNode
{
    public static readonly string[] Addresses = ["127.0.0.1", "127.0.0.2", "127.0.0.3"];

    /// <summary>Small nodes: three of them share a laptop or CI runner with the tests.</summary>
    public static LocalServerSettings Settings { get; } = new(MaxConnections: 300, BufferPoolSize: "64M", RedoLogSize: "16M", ["--performance-schema=OFF"]);

    private readonly LocalServerFlavor _flavor;
    private readonly string _provider;
    private readonly string _folder;
    private readonly GaleraPorts _ports;
    private bool _exitHooked;

    public LocalGaleraNode(LocalServerFlavor flavor, string provider, string folder, int index, GaleraPorts ports)
    {
        _flavor = flavor;
        _provider = provider;
        _folder = folder;
        _ports = ports;
        Index = index;
        ConnectionString = new MySqlConnectionStringBuilder
        {
            Server = Address,
            Port = (uint)ports.Client,
            UserID = "root",
            Password = string.Empty,
            MaximumPoolSize = 200,
        }.ConnectionString;
    }

    public int Index { get; }

    public string Address => Addresses[Index];

    public int ClientPort => _ports.Client;

    /// <summary>Root, no password, no database.</summary>
    public string ConnectionString { get; }

    private string ServerPidFile => Path.Combine(_folder, "server.pid");

    private string ErrorLog => Path.Combine(_folder, "error.log");

    /// <summary>Starts the node's process under a watchdog and waits until it is Synced in a cluster of <paramref name="clusterSize"/> nodes.</summary>
    public async Task<TimeSpan> StartAsync(bool bootstrap, int clusterSize, CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        Directory.CreateDirectory(LocalServer.DataFolder(_folder));
        Directory.CreateDirectory(LocalServer.TempFolder(_folder));
        if (_flavor.RunAsRoot)
        {
            // The node runs as mysql; its state transfer (a script it starts) writes into its folder as mysql too.
            await ChownAsync(_folder, ct).ConfigureAwait(false);
        }

        var cluster = string.Join(",", Addresses.Select(a => $"{a}:{_ports.Group}"));
        List<string> args =
        [
            "--no-defaults",
            $"--datadir={LocalServer.DataFolder(_folder)}",
            $"--tmpdir={LocalServer.TempFolder(_folder)}",
            $"--socket={Path.Combine(_folder, "mysqld.sock")}",
            $"--port={_ports.Client}",
            $"--bind-address={Address}",
            $"--pid-file={Path.Combine(_folder, "mysqld.pid")}",
            $"--log-error={ErrorLog}",
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            $"--max-connections={Settings.MaxConnections}",
            $"--innodb-buffer-pool-size={Settings.BufferPoolSize}",
            .. Settings.RedoLogArguments(_flavor),
            .. Settings.Arguments,
            "--innodb-flush-log-at-trx-commit=2",
            // What Galera needs: row-based replication events, interleaved auto-increment locks, InnoDB.
            "--skip-log-bin",
            "--binlog-format=ROW",
            "--innodb-autoinc-lock-mode=2",
            "--default-storage-engine=InnoDB",
            "--wsrep-on=ON",
            $"--wsrep-provider={_provider}",
            "--wsrep-cluster-name=ridebooking-test",
            $"--wsrep-cluster-address=gcomm://{cluster}",
            $"--wsrep-node-address={Address}:{_ports.Group}",
            $"--wsrep-node-name=node{Index + 1}",
            "--wsrep-sst-method=rsync",
            $"--wsrep-sst-receive-address={Address}:{_ports.Sst}",
            "--wsrep-slave-threads=2",
            // A killed node is evicted after 6 s instead of 15 (its restart cannot join before): shorter, not so short
            // that a busy test machine makes the nodes suspect each other.
            $"--wsrep-provider-options=gmcast.listen_addr=tcp://{Address}:{_ports.Group};ist.recv_addr={Address}:{_ports.Ist};gcache.size=64M;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;evs.install_timeout=PT5S",
        ];
        if (_flavor.RunAsRoot)
        {
            args.Add("--user=mysql");
        }

        if (bootstrap)
        {
            args.Add("--wsrep-new-cluster");
        }
        else if (await RecoverPositionAsync(args, ct).ConfigureAwait(false) is { } position)
        {
            // After a crash the node's state file does not say how far it got: recover the position from InnoDB (as
            // mysqld_safe does) so that the node catches up by incremental transfer instead of a full copy.
            args.Add($"--wsrep-start-position={position}");
        }

        if (!_exitHooked)
        {
            _exitHooked = true;
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
        }

        // A node whose process ends before it answers is started once more (seen once in a few dozen restarts after a
        // SIGKILL: the new process left nothing in its error log); the details of both starts go into the error.
        string? firstFailure = null;
        for (var start = 1; ; start++)
        {
            LocalServer.StartWatched(_folder, ServerPidFile, _flavor.Binary, args);
            try
            {
                // A joiner first receives a copy of the data (state transfer), then catches up: allow for a busy machine.
                await GaleraCluster.WaitSyncedAsync(ConnectionString, TimeSpan.FromSeconds(180), ct, ServerAlive, clusterSize).ConfigureAwait(false);
                break;
            }
            catch (InvalidOperationException ex)
            {
                var failure = $"{ex.Message}{Environment.NewLine}{await LocalServer.TailOfFileAsync(ErrorLog, ct).ConfigureAwait(false)}{Environment.NewLine}server output: {await LocalServer.TailOfFileAsync(Path.Combine(_folder, LocalServer.OutputFile), ct).ConfigureAwait(false)}";
                if (start == 1 && !ServerAlive())
                {
                    firstFailure = failure;
                    continue;
                }

                throw new InvalidOperationException(firstFailure is null ? failure : $"{failure}{Environment.NewLine}(started twice; the first start ended: {firstFailure})", ex);
            }
        }

        return stopwatch.Elapsed;
    }

    private bool ServerAlive() => !File.Exists(ServerPidFile) || IsAlive(LocalServer.ReadPid(ServerPidFile));

    /// <summary>
    /// Runs the server once with <c>--wsrep-recover</c> on a data folder that has data: it reads the last committed
    /// position from InnoDB, logs it and exits. <see langword="null"/> for an empty folder or when nothing was recovered.
    /// </summary>
    private async Task<string?> RecoverPositionAsync(List<string> args, CancellationToken ct)
    {
        if (!File.Exists(Path.Combine(LocalServer.DataFolder(_folder), "ibdata1")))
        {
            return null;
        }

        var log = Path.Combine(_folder, "recover.log");
        File.Delete(log);
        var start = new ProcessStartInfo(_flavor.Binary) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args.Where(a => !a.StartsWith("--log-error=", StringComparison.Ordinal)).Append($"--log-error={log}").Append("--wsrep-recover"))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {_flavor.Binary}.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            process.Kill();
            return null;
        }

        await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
        if (!File.Exists(log))
        {
            return null;
        }

        const string Marker = "WSREP: Recovered position: ";
        var line = (await File.ReadAllLinesAsync(log, ct).ConfigureAwait(false)).LastOrDefault(l => l.Contains(Marker, StringComparison.Ordinal));
        var position = line?[(line.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length)..].Trim();
        return string.IsNullOrEmpty(position) || position.EndsWith(":-1", StringComparison.Ordinal) ? null : position;
    }

    /// <summary>SIGKILL: the node dies at once, as in a crash; its folder stays for the restart.</summary>
    public void Kill()
    {
        var pid = LocalServer.ReadPid(ServerPidFile);
        if (pid <= 0 || !IsAlive(pid))
        {
            return;
        }

        using var process = Process.GetProcessById(pid);
        process.Kill();
        process.WaitForExit(10_000);
    }

    /// <summary>Kills the node and deletes its folder.</summary>
    public void Stop()
    {
        Kill();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static bool IsAlive(int pid)
    {
        if (pid <= 0)
        {
            // Not known yet: the watchdog writes it right after starting the server.
            return true;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited && process.ProcessName.Contains("mariadbd", StringComparison.Ordinal);
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

    private static async Task ChownAsync(string folder, CancellationToken ct)
    {
        var start = new ProcessStartInfo("chown") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["-R", "mysql:", folder])
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start chown.");
        var error = await process.StandardError.ReadToEndAsync(ct).ConfigureAwait(false);
        await process.WaitForExitAsync(ct).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"Could not give the Galera node folder to the mysql user (a node started as root runs as mysql): {error.Trim()}");
        }
    }
}
