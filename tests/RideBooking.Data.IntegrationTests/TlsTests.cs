using System.Security.Authentication;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Testing;
using RideBooking.Data.Testing.Internal;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// A server of its own that requires TLS (<c>require_secure_transport=ON</c>) with a certificate the test kit generated:
/// the library works over it verifying the certificate's authority (<c>SslMode=VerifyCA</c>), a plaintext connection is
/// refused, and so is a client that verifies against another authority.
/// </summary>
public sealed class TlsTests : IAsyncLifetime
{
    private RideBookingTestTlsServer? _server;
    private RideBookingTestDatabase? _database;

    private RideBookingTestTlsServer Server => _server ?? throw new InvalidOperationException("Not initialized.");

    private RideBookingTestDatabase Database => _database ?? throw new InvalidOperationException("Not initialized.");

    public async Task InitializeAsync()
    {
        _server = await RideBookingTestTlsServer.StartAsync(requireSecureTransport: true);
        _database = await _server.CreateDatabaseAsync();
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private string With(Action<MySqlConnectionStringBuilder> change)
    {
        var builder = new MySqlConnectionStringBuilder(Database.ConnectionString);
        change(builder);
        return builder.ConnectionString;
    }

    [Fact]
    public async Task The_library_works_over_tls_verifying_the_certificate_authority()
    {
        var builder = new MySqlConnectionStringBuilder(Database.ConnectionString);
        Assert.Equal(MySqlSslMode.VerifyCA, builder.SslMode);
        Assert.Equal(Server.CaCertificatePath, builder.SslCa);
        Assert.True(Server.RequiresSecureTransport);
        Assert.Contains("TLS required", Server.Description, StringComparison.Ordinal);

        await using var services = DatabaseFixture.BuildServices(Database.ConnectionString);
        var user = await services.GetRequiredService<IUserRepository>().CreateAsync("Asha", "+15550001001");
        var driver = await services.GetRequiredService<IDriverRepository>().CreateAsync("Ravi", "KA-01-TLS");
        var booking = services.GetRequiredService<IRideBookingService>();
        var ride = await booking.BookAsync(user.Id, driver.Id, 20m);
        await booking.AcceptAsync(ride.Id, driver.Id);
        await booking.CompleteAsync(ride.Id);
        var payment = await services.GetRequiredService<IPaymentRepository>().RecordAsync(ride.Id, "psp-tls-1", 20m);
        Assert.Equal(ride.Id, payment.Payment.RideId);

        // The session is encrypted, as the application account, over TCP.
        await using var connection = new MySqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        var version = await connection.QuerySingleAsync<(string Name, string Value)>("SHOW SESSION STATUS LIKE 'Ssl_version'");
        Assert.StartsWith("TLSv1.", version.Value, StringComparison.Ordinal);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides WHERE id = @Id AND status = 'COMPLETED'", new { ride.Id }));
    }

    [Fact]
    public async Task A_plaintext_connection_is_refused_when_the_server_requires_tls()
    {
        var plaintext = With(b => b.SslMode = MySqlSslMode.None);

        await using var connection = new MySqlConnection(plaintext);
        var refused = await Assert.ThrowsAsync<MySqlException>(() => connection.OpenAsync());
        // MySQL answers ER_SECURE_TRANSPORT_REQUIRED (3159, "insecure transport"); MariaDB 10.11 answers
        // "Access denied" (1045) to the same, correct credentials sent without TLS.
        Assert.True(
            refused.ErrorCode == MySqlErrorCode.AccessDenied || refused.Number == 3159 || refused.Message.Contains("insecure transport", StringComparison.OrdinalIgnoreCase),
            $"Unexpected refusal {refused.Number}: {refused.Message}");

        // The very same credentials over TLS are accepted: the refusal is the missing encryption.
        await using (var encrypted = new MySqlConnection(Database.ConnectionString))
        {
            await encrypted.OpenAsync();
        }

        // Through the library too: nothing is written, and the error does not echo the connection string.
        await using var services = DatabaseFixture.BuildServices(plaintext);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => services.GetRequiredService<IUserRepository>().CreateAsync("Ben", "+15550001002"));
        Assert.Contains(refused.Message, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(new MySqlConnectionStringBuilder(plaintext).Password, error.ToString(), StringComparison.Ordinal);
        await using var admin = new MySqlConnection(Database.ConnectionStringFor(RideBookingTestAccount.Administrator));
        await admin.OpenAsync();
        Assert.Equal(0, await admin.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users WHERE phone = '+15550001002'"));
    }

    [Fact]
    public async Task A_client_that_verifies_against_another_certificate_authority_is_refused()
    {
        var otherCa = Path.Combine(Path.GetTempPath(), $"rb-other-ca-{Guid.NewGuid():N}.pem");
        using (var other = TestCertificateAuthority.Create("Another CA"))
        {
            other.WriteCertificate(otherCa);
        }

        try
        {
            await using var wrong = new MySqlConnection(With(b => b.SslCa = otherCa));
            var refused = await Assert.ThrowsAsync<MySqlException>(() => wrong.OpenAsync());
            Assert.IsAssignableFrom<AuthenticationException>(refused.InnerException);

            // The same client that does not verify the authority gets in: the refusal above is the certificate check.
            await using var unverified = new MySqlConnection(With(b => b.SslMode = MySqlSslMode.Required));
            await unverified.OpenAsync();
            Assert.Equal(1, await unverified.ExecuteScalarAsync<long>("SELECT 1"));
        }
        finally
        {
            File.Delete(otherCa);
        }
    }
}
