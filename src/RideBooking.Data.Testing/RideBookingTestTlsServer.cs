using System.Diagnostics;
using System.Globalization;
using MySqlConnector;
using RideBooking.Data.Testing.Internal;

namespace RideBooking.Data.Testing;

/// <summary>
/// A throwaway server of its own (not shared with other tests) that serves TLS with a certificate the kit generates: a
/// certificate authority and a server certificate for 127.0.0.1 made in .NET, written as PEM into the server's temporary
/// folder (<c>ssl_ca</c>, <c>ssl_cert</c>, <c>ssl_key</c>). Connection strings it hands out verify the server against that
/// authority (<c>SslMode=VerifyCA</c>, <c>SslCa</c>). It can be stopped (killed, as in a crash) and started again on
/// the same port, for fault tests.
/// </summary>
/// <remarks>
/// It needs a local <c>mariadbd</c> or <c>mysqld</c> binary (PATH or the usual sbin folders), like the kit's local
/// server; <see cref="StartAsync"/> throws an <see cref="InvalidOperationException"/> saying how to install one when
/// there is none. Disposing it kills the server and deletes its folder.
/// </remarks>
public sealed class RideBookingTestTlsServer : IAsyncDisposable
{
    private readonly LocalServerFlavor _flavor;
    private readonly string _folder;
    private readonly LocalServerSettings _settings;
    private int _port;

    private RideBookingTestTlsServer(LocalServerFlavor flavor, string folder, LocalServerSettings settings, string caCertificatePath, bool requiresSecureTransport)
    {
        _flavor = flavor;
        _folder = folder;
        _settings = settings;
        CaCertificatePath = caCertificatePath;
        RequiresSecureTransport = requiresSecureTransport;
    }

    /// <summary>Gets the path of the PEM file of the certificate authority that signed the server's certificate.</summary>
    public string CaCertificatePath { get; }

    /// <summary>Gets a value indicating whether the server refuses connections without TLS (<c>require_secure_transport=ON</c>).</summary>
    public bool RequiresSecureTransport { get; }

    /// <summary>
    /// Gets the administrator's connection string, without a database, verifying the server's certificate
    /// (<c>SslMode=VerifyCA</c> with <see cref="CaCertificatePath"/>).
    /// </summary>
    public string AdminConnectionString { get; private set; } = string.Empty;

    /// <summary>Gets the server's version and endpoint, without credentials.</summary>
    public string Description { get; private set; } = string.Empty;

    /// <summary>Gets a value indicating whether the server process is running (false after <see cref="StopAsync"/>).</summary>
    public bool IsRunning { get; private set; }

    /// <summary>Starts a server with a freshly generated certificate authority and server certificate.</summary>
    /// <param name="requireSecureTransport"><see langword="true"/> (the default) to refuse connections without TLS.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The running server; dispose it to remove it.</returns>
    /// <exception cref="InvalidOperationException">No local server binary was found (the message says how to install one), or it did not start.</exception>
    public static async Task<RideBookingTestTlsServer> StartAsync(bool requireSecureTransport = true, CancellationToken cancellationToken = default)
    {
        var binary = LocalServer.FindBinary(LocalServer.DefaultDirectories())
            ?? throw new InvalidOperationException(
                "A TLS test server needs a local MariaDB or MySQL server binary (mariadbd or mysqld on PATH or in /usr/sbin), for example " +
                "'apt-get install mariadb-server' on Debian or Ubuntu (bash .ci/ensure-server does it); RIDEBOOKING_MYSQL and Docker servers cannot be given a generated certificate.");
        var flavor = await LocalServer.DetectAsync(binary, cancellationToken).ConfigureAwait(false);
        var folder = await LocalServer.NewFolderAsync(cancellationToken).ConfigureAwait(false);
        var tls = Path.Combine(folder, "tls");
        Directory.CreateDirectory(tls);
        var ca = Path.Combine(tls, "ca.pem");
        var certificate = Path.Combine(tls, "server-cert.pem");
        var key = Path.Combine(tls, "server-key.pem");
        using (var authority = TestCertificateAuthority.Create("RideBooking.Data test CA " + Guid.NewGuid().ToString("N")[..8]))
        {
            authority.WriteCertificate(ca);
            var (certificatePem, keyPem) = authority.IssueServerCertificate();
            await File.WriteAllTextAsync(certificate, certificatePem, cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(key, keyPem, cancellationToken).ConfigureAwait(false);
        }

        List<string> arguments = ["--skip-log-bin", "--performance-schema=OFF", $"--ssl-ca={ca}", $"--ssl-cert={certificate}", $"--ssl-key={key}"];
        if (requireSecureTransport)
        {
            arguments.Add("--require-secure-transport=ON");
        }

        var settings = new LocalServerSettings(MaxConnections: 100, BufferPoolSize: "64M", RedoLogSize: "16M", arguments);
        await LocalServer.InitializeAsync(flavor, LocalServer.DataFolder(folder), settings, cancellationToken).ConfigureAwait(false);
        var server = new RideBookingTestTlsServer(flavor, folder, settings, ca, requireSecureTransport);
        try
        {
            server.Started(await LocalServer.LaunchAsync(flavor, folder, settings, cancellationToken).ConfigureAwait(false));
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Creates a database with accounts and the schema on this server (see <see cref="RideBookingTestDatabase"/>); its
    /// connection strings verify the server's certificate like <see cref="AdminConnectionString"/>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The database; dispose it (while the server runs) to drop it.</returns>
    public Task<RideBookingTestDatabase> CreateDatabaseAsync(CancellationToken cancellationToken = default) =>
        RideBookingTestDatabase.CreateOnAsync(AdminConnectionString, TestServerSource.LocalBinary, Description, cancellationToken);

    /// <summary>Kills the server process, as a crash would; its data and port stay, for <see cref="RestartAsync"/>.</summary>
    /// <param name="cancellationToken">Cancels the wait for the process to end.</param>
    /// <returns>A task that completes when the process is gone.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        var pid = ServerPid();
        if (pid > 0)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }

        IsRunning = false;
    }

    /// <summary>Starts the server again on the same port with the same data and certificates (stopping it first if it runs).</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the server accepts connections again.</returns>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await StopAsync(cancellationToken).ConfigureAwait(false);
        Started(await LocalServer.LaunchOnPortAsync(_flavor, _folder, _settings, _port, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Kills the server and deletes its folder.</summary>
    /// <returns>A task that completes when the server is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // The watchdog may be deleting it; a folder left behind is cleaned at the next start.
        }
    }

    private void Started(LocalServerInstance instance)
    {
        _port = instance.Port;
        AdminConnectionString = new MySqlConnectionStringBuilder(instance.ConnectionString)
        {
            SslMode = MySqlSslMode.VerifyCA,
            SslCa = CaCertificatePath,
        }.ConnectionString;
        Description = instance.Description + ", TLS" + (RequiresSecureTransport ? " required" : string.Empty);
        IsRunning = true;
    }

    private int ServerPid()
    {
        var file = Path.Combine(_folder, "server.pid");
        try
        {
            return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
