using Dapper;
using MySqlConnector;
using RideBooking.Data.Testing;
using RideBooking.Data.Testing.Internal;

namespace RideBooking.Data.IntegrationTests;

/// <summary>The test kit's server discovery order, and what it gives the tests.</summary>
public sealed class TestKitTests
{
    private static Task<TestServer> Unexpected(string what) =>
        throw new InvalidOperationException($"{what} must not be tried.");

    [Fact]
    public async Task The_environment_variable_wins_over_docker_and_local_binaries()
    {
        var real = await TestServerLocator.Shared.GetAsync(CancellationToken.None);
        var locator = new TestServerLocator(new TestServerDiscovery
        {
            GetEnvironmentVariable = name => name == "RIDEBOOKING_MYSQL" ? real.ConnectionString : null,
            IsDockerAvailable = () => true,
            StartContainer = _ => Unexpected("Docker"),
            StartLocalServer = (_, _) => Unexpected("A local binary"),
        });

        var server = await locator.ResolveAsync(CancellationToken.None);

        Assert.Equal(TestServerSource.EnvironmentVariable, server.Source);
        Assert.DoesNotContain("Password", server.Description, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Docker_comes_before_a_local_binary_and_a_failing_docker_falls_back_to_it()
    {
        var marker = new TestServer("Server=127.0.0.1", TestServerSource.LocalBinary, "marker");
        string? startedBinary = null;
        var discovery = new TestServerDiscovery
        {
            GetEnvironmentVariable = _ => null,
            IsDockerAvailable = () => true,
            StartContainer = _ => Task.FromResult(marker with { Source = TestServerSource.Testcontainers }),
            BinaryDirectories = [Path.GetDirectoryName(typeof(TestKitTests).Assembly.Location)!, .. LocalServer.DefaultDirectories()],
            StartLocalServer = (binary, _) =>
            {
                startedBinary = binary;
                return Task.FromResult(marker);
            },
        };

        Assert.Equal(TestServerSource.Testcontainers, (await new TestServerLocator(discovery).ResolveAsync(CancellationToken.None)).Source);
        Assert.Null(startedBinary);

        var failingDocker = new TestServerDiscovery
        {
            GetEnvironmentVariable = discovery.GetEnvironmentVariable,
            IsDockerAvailable = () => true,
            StartContainer = _ => throw new InvalidOperationException("no engine"),
            BinaryDirectories = discovery.BinaryDirectories,
            StartLocalServer = discovery.StartLocalServer,
        };
        var fallback = new TestServerLocator(failingDocker);
        var hasBinary = LocalServer.FindBinary(LocalServer.DefaultDirectories()) is not null;
        if (hasBinary)
        {
            Assert.Same(marker, await fallback.ResolveAsync(CancellationToken.None));
            Assert.Contains(Path.GetFileName(startedBinary), new[] { "mariadbd", "mysqld" });
        }
        else
        {
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => fallback.ResolveAsync(CancellationToken.None));
            Assert.Contains("no engine", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task With_nothing_available_the_error_names_the_three_ways_to_provide_a_server()
    {
        var locator = new TestServerLocator(new TestServerDiscovery
        {
            GetEnvironmentVariable = _ => null,
            IsDockerAvailable = () => false,
            StartContainer = _ => Unexpected("Docker"),
            BinaryDirectories = [Path.Combine(Path.GetTempPath(), "ridebooking-no-such-folder")],
            StartLocalServer = (_, _) => Unexpected("A local binary"),
        });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => locator.GetAsync(CancellationToken.None));

        Assert.Contains("RIDEBOOKING_MYSQL", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Docker", ex.Message, StringComparison.Ordinal);
        Assert.Contains("mariadbd", ex.Message, StringComparison.Ordinal);
        // The failure is remembered: the next test fails at once with the same message.
        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => locator.GetAsync(CancellationToken.None));
        Assert.Equal(ex.Message, again.Message);
    }

    [Fact]
    public async Task An_unreachable_environment_server_is_an_error_that_does_not_leak_the_password()
    {
        var locator = new TestServerLocator(new TestServerDiscovery
        {
            GetEnvironmentVariable = _ => "Server=127.0.0.1;Port=1;User ID=root;Password=s3cret-value;Connection Timeout=2",
            IsDockerAvailable = () => false,
        });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => locator.ResolveAsync(CancellationToken.None));
        Assert.Contains("127.0.0.1:1", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-value", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_test_database_is_fresh_unique_and_dropped_on_dispose()
    {
        string name;
        await using (var first = await RideBookingTestDatabase.CreateAsync())
        await using (var second = await RideBookingTestDatabase.CreateAsync())
        {
            Assert.NotEqual(first.DatabaseName, second.DatabaseName);
            await using var connection = new MySqlConnection(first.ConnectionString);
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides"));
            // The five tables of the library, schema_history (every script applied), the four of cross-shard work, the
            // two claims of keys unique across shards and the shard catalog.
            Assert.Equal(14, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()"));
            Assert.Equal(RideBookingSchema.Scripts.Select(s => s.Key), await RideBookingSchema.GetAppliedScriptsAsync(first.ConnectionString));
            if (first.Source == TestServerSource.LocalBinary)
            {
                // The throwaway server listens on loopback only.
                Assert.Equal("127.0.0.1", await connection.ExecuteScalarAsync<string>("SELECT @@bind_address"));
            }

            name = first.DatabaseName;
        }

        var server = await TestServerLocator.Shared.GetAsync(CancellationToken.None);
        await using var check = new MySqlConnection(server.ConnectionString);
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = @name", new { name }));
    }

    [Fact]
    public async Task Folders_left_by_a_crashed_run_are_cleaned_and_live_ones_are_kept()
    {
        // A process that has exited stands in for a test run that crashed.
        using var gone = System.Diagnostics.Process.Start("/bin/sh", ["-c", "exit 0"]);
        await gone.WaitForExitAsync();
        Directory.CreateDirectory(LocalServer.RootFolder);
        var stale = Path.Combine(LocalServer.RootFolder, $"run-{gone.Id}-stale{Guid.NewGuid():N}"[..40]);
        var live = Path.Combine(LocalServer.RootFolder, $"run-{Environment.ProcessId}-live{Guid.NewGuid():N}"[..40]);
        foreach (var (folder, owner) in new[] { (stale, gone.Id), (live, Environment.ProcessId) })
        {
            Directory.CreateDirectory(Path.Combine(folder, "data"));
            await File.WriteAllTextAsync(Path.Combine(folder, "owner.pid"), owner.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        LocalServer.CleanStaleFolders();

        Assert.False(Directory.Exists(stale));
        Assert.True(Directory.Exists(live));
        Directory.Delete(live, recursive: true);
    }
}
