using System.Security.Cryptography;
using Testcontainers.MySql;

namespace RideBooking.Data.Testing.Internal;

/// <summary>A pinned mysql:8.4 container, for machines with a Docker engine.</summary>
internal static class ContainerServer
{
    public const string Image = "mysql:8.4";

    public static bool IsDockerAvailable()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_HOST")))
        {
            return true;
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return File.Exists("/var/run/docker.sock")
            || File.Exists(Path.Combine(home, ".docker", "run", "docker.sock"))
            || File.Exists(Path.Combine(home, ".docker", "desktop", "docker.sock"));
    }

    public static async Task<TestServer> StartAsync(CancellationToken ct)
    {
        var container = new MySqlBuilder(Image)
            .WithUsername("root")
            .WithPassword(Convert.ToHexString(RandomNumberGenerator.GetBytes(12)))
            .Build();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        await container.StartAsync(timeout.Token).ConfigureAwait(false);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => container.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return await TestServerLocator.ConnectAsync(container.GetConnectionString(), TestServerSource.Testcontainers, ct).ConfigureAwait(false);
    }
}
