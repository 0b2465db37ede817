using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RideBooking.Data.Testing.Internal;

/// <summary>
/// A throwaway certificate authority made in .NET (<see cref="CertificateRequest"/>), valid for two days, that issues server
/// certificates for 127.0.0.1 / localhost. Everything is written as PEM, which MariaDB and MySQL read as
/// <c>ssl_ca</c>, <c>ssl_cert</c> and <c>ssl_key</c> and MySqlConnector as <c>SslCa</c>.
/// </summary>
internal sealed class TestCertificateAuthority : IDisposable
{
    private readonly X509Certificate2 _certificate;

    private TestCertificateAuthority(X509Certificate2 certificate) => _certificate = certificate;

    /// <summary>Gets the CA certificate as PEM (what a client verifies the server against).</summary>
    public string CertificatePem => _certificate.ExportCertificatePem();

    /// <summary>Creates a new authority with its own key.</summary>
    /// <param name="name">The common name of the authority.</param>
    /// <returns>The authority.</returns>
    public static TestCertificateAuthority Create(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={name}"), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        return new TestCertificateAuthority(request.CreateSelfSigned(now.AddMinutes(-10), now.AddDays(2)));
    }

    /// <summary>Issues a server certificate for 127.0.0.1, ::1 and localhost.</summary>
    /// <returns>The certificate and its RSA private key, as PEM.</returns>
    public (string CertificatePem, string PrivateKeyPem) IssueServerCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(new X500DistinguishedName("CN=127.0.0.1"), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.Create(_certificate, now.AddMinutes(-5), now.AddDays(1), serial);
        // PKCS#1 ("BEGIN RSA PRIVATE KEY"): read by every TLS library the servers are built with.
        return (certificate.ExportCertificatePem(), key.ExportRSAPrivateKeyPem());
    }

    /// <summary>Writes the CA certificate as a PEM file.</summary>
    /// <param name="path">The file to write.</param>
    public void WriteCertificate(string path) => File.WriteAllText(path, CertificatePem);

    public void Dispose() => _certificate.Dispose();
}
