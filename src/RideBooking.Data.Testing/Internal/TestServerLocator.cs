using MySqlConnector;

namespace RideBooking.Data.Testing.Internal;

/// <summary>A server the tests can create databases on.</summary>
/// <param name="ConnectionString">A connection string without a database, whose user may create and drop databases.</param>
/// <param name="Source">Where the server came from.</param>
/// <param name="Description">Product, version and endpoint, without credentials.</param>
internal sealed record TestServer(string ConnectionString, TestServerSource Source, string Description);

/// <summary>What the locator looks at; tests replace parts of it to check the fallback order.</summary>
internal sealed class TestServerDiscovery
{
    public const string EnvironmentVariableName = "RIDEBOOKING_MYSQL";

    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    public Func<bool> IsDockerAvailable { get; init; } = ContainerServer.IsDockerAvailable;

    public Func<CancellationToken, Task<TestServer>> StartContainer { get; init; } = ContainerServer.StartAsync;

    public IReadOnlyList<string> BinaryDirectories { get; init; } = LocalServer.DefaultDirectories();

    public Func<string, CancellationToken, Task<TestServer>> StartLocalServer { get; init; } = LocalServer.StartAsync;
}

/// <summary>Finds or starts one server per process, in the documented order, and remembers it (or its failure).</summary>
internal sealed class TestServerLocator(TestServerDiscovery discovery)
{
    private readonly Lock _gate = new();
    private Task<TestServer>? _server;

    public static TestServerLocator Shared { get; } = new(new TestServerDiscovery());

    public Task<TestServer> GetAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            // Started once and shared by every test of the run; a failure is remembered too, so a
            // missing server fails every test at once with the same message instead of retrying.
            _server ??= Task.Run(() => ResolveAsync(CancellationToken.None), CancellationToken.None);
            return _server.WaitAsync(ct);
        }
    }

    internal async Task<TestServer> ResolveAsync(CancellationToken ct)
    {
        var fromEnvironment = discovery.GetEnvironmentVariable(TestServerDiscovery.EnvironmentVariableName);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return await ConnectAsync(fromEnvironment, TestServerSource.EnvironmentVariable, ct).ConfigureAwait(false);
        }

        string? dockerFailure = null;
        if (discovery.IsDockerAvailable())
        {
            try
            {
                return await discovery.StartContainer(ct).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Any failure to start a container means: fall back to a local binary.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                dockerFailure = $"{ex.GetType().Name}: {ex.Message}";
            }
        }

        var binary = LocalServer.FindBinary(discovery.BinaryDirectories);
        if (binary is not null)
        {
            return await discovery.StartLocalServer(binary, ct).ConfigureAwait(false);
        }

        throw new InvalidOperationException(NoServerMessage(dockerFailure));
    }

    internal static string NoServerMessage(string? dockerFailure) =>
        "No MySQL or MariaDB server is available for RideBooking.Data tests. Provide one in any of these ways:" + Environment.NewLine +
        $"  1. set the environment variable {TestServerDiscovery.EnvironmentVariableName} to a server connection string whose user may create and drop databases, for example \"Server=127.0.0.1;Port=3306;User ID=root;Password=...\";" + Environment.NewLine +
        "  2. run a Docker engine, so that Testcontainers can start a mysql:8.4 container" +
        (dockerFailure is null ? ";" : $" (a Docker engine was found but the container did not start: {dockerFailure});") + Environment.NewLine +
        "  3. install a MariaDB or MySQL server binary (mariadbd or mysqld on PATH or in /usr/sbin), for example 'apt-get install mariadb-server' on Debian or Ubuntu; the tests start a throwaway instance of it on 127.0.0.1.";

    /// <summary>The server's own version string (MySqlConnector's ServerVersion carries a "5.5.5-" prefix for MariaDB).</summary>
    internal static async Task<string> ServerVersionAsync(MySqlConnection connection, CancellationToken ct)
    {
        var command = new MySqlCommand("SELECT VERSION()", connection);
        await using (command.ConfigureAwait(false))
        {
            return (string)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        }
    }

    internal static async Task<TestServer> ConnectAsync(string connectionString, TestServerSource source, CancellationToken ct)
    {
        var builder = new MySqlConnectionStringBuilder(connectionString) { Database = string.Empty };
        var endpoint = $"{builder.Server}:{builder.Port}";
        try
        {
            var connection = new MySqlConnection(builder.ConnectionString);
            await using (connection.ConfigureAwait(false))
            {
                await connection.OpenAsync(ct).ConfigureAwait(false);
                return new TestServer(builder.ConnectionString, source, $"{await ServerVersionAsync(connection, ct).ConfigureAwait(false)} on {endpoint}");
            }
        }
        catch (MySqlException ex)
        {
            // The message names the endpoint only: the connection string may hold a password.
            throw new InvalidOperationException($"The test server from {source} ({endpoint}) did not accept a connection: {ex.Message}", ex);
        }
    }
}
