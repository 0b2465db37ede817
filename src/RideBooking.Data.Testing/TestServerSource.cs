namespace RideBooking.Data.Testing;

/// <summary>Where the test server came from.</summary>
public enum TestServerSource
{
    /// <summary>The server named by the <c>RIDEBOOKING_MYSQL</c> environment variable.</summary>
    EnvironmentVariable,

    /// <summary>A <c>mysql:8.4</c> container started through Testcontainers.</summary>
    Testcontainers,

    /// <summary>A throwaway <c>mariadbd</c> or <c>mysqld</c> started from a local binary on a free loopback port.</summary>
    LocalBinary,
}
