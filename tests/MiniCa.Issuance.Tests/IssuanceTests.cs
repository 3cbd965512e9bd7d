using System.Collections.Concurrent;
using System.Net;
using MiniCa.Authority.Issuance;
using MiniCa.Core.Errors;
using MiniCa.Core.Issuance;
using MiniCa.Core.Ledger;
using MiniCa.TestSupport;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace MiniCa.Issuance.Tests;

[Collection(IssuanceCollection.Name)]
public sealed class IssuanceTests(IssuanceFixture ca)
{
    private static IssuanceSubmission Submit(byte[] csr, string profile, string requester = "alice") =>
        new() { Csr = csr, Profile = profile, Requester = requester, Source = "test" };

    public static TheoryData<string, string, string> Profiles => new()
    {
        { "tls-server", "sslserver", "1.3.6.1.5.5.7.3.1" },
        { "tls-client", "sslclient", "1.3.6.1.5.5.7.3.2" },
        { "email", "smimesign", "1.3.6.1.5.5.7.3.4" },
        { "ocsp-signing", "ocsphelper", "1.3.6.1.5.5.7.3.9" },
        // OpenSSL 3.0 has no code-signing purpose: -x509_strict with "any", and certtool checks the EKU.
        { "code-signing", "any", "1.3.6.1.5.5.7.3.3" },
    };

    private static byte[] CsrFor(string profile) => profile switch
    {
        "tls-server" => Csrs.Make("CN=web.example.internal", san =>
        {
            san.AddDnsName("web.example.internal");
            san.AddDnsName("*.apps.example.internal");
            san.AddIpAddress(IPAddress.Parse("10.0.0.5"));
        }),
        "tls-client" => Csrs.Make("CN=client.example.com", san =>
        {
            san.AddDnsName("client.example.com");
            san.AddUri(new Uri("spiffe://example.org/payments"));
        }),
        "email" => Csrs.Make("CN=alice@example.com", san => san.AddEmailAddress("alice@example.com")),
        "ocsp-signing" => Csrs.Make("CN=MiniCa OCSP Responder"),
        "code-signing" => Csrs.Make("CN=Build Server"),
        _ => throw new ArgumentOutOfRangeException(nameof(profile)),
    };

    [Theory]
    [MemberData(nameof(Profiles))]
    public async Task Issue_EveryShippedProfile_PassesOpenSslAndCertToolForItsPurpose(string profile, string opensslPurpose, string ekuOid)
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        var certtool = Prerequisites.RequireProgram("certtool", "gnutls-bin");

        var outcome = await ca.Issuance.SubmitAsync(Submit(CsrFor(profile), profile));
        if (outcome.Status == RequestStatus.Pending)
        {
            outcome = await ca.Issuance.DecideAsync(outcome.RequestId, "officer-bob", approve: true, "reviewed");
        }

        Assert.True(outcome.Status == RequestStatus.Issued, string.Join("; ", outcome.Problems));
        var certificate = Path.Combine(ca.WorkDirectory, $"{profile}.pem");
        var chain = Path.Combine(ca.WorkDirectory, $"{profile}-chain.pem");
        File.WriteAllText(certificate, CertificateFormats.ToPem(outcome.Certificate!));
        File.WriteAllText(chain, CertificateFormats.ToPem(outcome.Certificate!) + File.ReadAllText(Path.Combine(ca.CaDirectory, "issuing.pem")));

        var verify = await ProcessRunner.RunAsync(openssl, [
            "verify", "-x509_strict", "-purpose", opensslPurpose,
            "-CAfile", Path.Combine(ca.CaDirectory, "root.pem"), "-untrusted", Path.Combine(ca.CaDirectory, "issuing.pem"), certificate]);
        Assert.True(verify.ExitCode == 0, verify.Combined);
        Assert.EndsWith(": OK", verify.StandardOutput.Trim(), StringComparison.Ordinal);

        var gnutls = await ProcessRunner.RunAsync(certtool, [
            "--verify", "--load-ca-certificate", Path.Combine(ca.CaDirectory, "root.pem"), "--infile", chain, $"--verify-purpose={ekuOid}"]);
        Assert.True(gnutls.ExitCode == 0, gnutls.Combined);
        Assert.Contains("Chain verification output: Verified.", gnutls.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Issue_TlsServer_VerifiesForItsHostnameAndNotAnother()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        var outcome = await ca.Issuance.SubmitAsync(Submit(CsrFor("tls-server"), "tls-server"));
        var certificate = Path.Combine(ca.WorkDirectory, "hostname.pem");
        File.WriteAllText(certificate, CertificateFormats.ToPem(outcome.Certificate!));
        string[] Args(string host) => ["verify", "-x509_strict", "-purpose", "sslserver", "-verify_hostname", host,
            "-CAfile", Path.Combine(ca.CaDirectory, "root.pem"), "-untrusted", Path.Combine(ca.CaDirectory, "issuing.pem"), certificate];

        Assert.Equal(0, (await ProcessRunner.RunAsync(openssl, Args("web.example.internal"))).ExitCode);
        Assert.Equal(0, (await ProcessRunner.RunAsync(openssl, Args("x.apps.example.internal"))).ExitCode);
        Assert.NotEqual(0, (await ProcessRunner.RunAsync(openssl, Args("evil.example.com"))).ExitCode);
    }

    [Fact]
    public async Task Ceremony_EachAuthority_IsAnAuditEvent()
    {
        var audit = await ca.Reader.ListAuditAsync(100_000);

        Assert.Contains(audit, a => a.Action == "authority.created" && a.Subject == "authority:root" && a.Actor == "ceremony");
        Assert.Contains(audit, a => a.Action == "authority.created" && a.Subject == "authority:issuing" && a.Details.Contains("issued by root", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Issue_Certificate_HasTheProfilesExtensions()
    {
        var outcome = await ca.Issuance.SubmitAsync(Submit(CsrFor("tls-server"), "tls-server"));
        var certificate = new X509CertificateParser().ReadCertificate(outcome.Certificate);

        Assert.Equal(-1, certificate.GetBasicConstraints());
        Assert.Contains(X509Extensions.BasicConstraints.Id, certificate.GetCriticalExtensionOids());
        Assert.Contains(X509Extensions.KeyUsage.Id, certificate.GetCriticalExtensionOids());
        Assert.False(certificate.GetKeyUsage()[2], "no keyEncipherment for an EC key (RFC 8813)");
        Assert.Equal(["1.3.6.1.5.5.7.3.1"], certificate.GetExtendedKeyUsage().Select(o => o.Id));
        var aia = AuthorityInformationAccess.GetInstance(Org.BouncyCastle.X509.Extension.X509ExtensionUtilities.FromExtensionValue(certificate.GetExtensionValue(X509Extensions.AuthorityInfoAccess)));
        Assert.Equal(
            ["http://ca.example.test/ca/issuing.crt", "http://ca.example.test/ocsp"],
            aia.GetAccessDescriptions().Select(d => d.AccessLocation.Name.ToString()));
        Assert.Contains("http://ca.example.test/crl/issuing.crl", CrlDistPoint.GetInstance(Org.BouncyCastle.X509.Extension.X509ExtensionUtilities.FromExtensionValue(
            certificate.GetExtensionValue(X509Extensions.CrlDistributionPoints))).ToString(), StringComparison.Ordinal);
        Assert.Equal(
            ca.Issuing.GetExtensionValue(X509Extensions.SubjectKeyIdentifier).GetOctets()[2..],
            AuthorityKeyIdentifier.GetInstance(Org.BouncyCastle.X509.Extension.X509ExtensionUtilities.FromExtensionValue(certificate.GetExtensionValue(X509Extensions.AuthorityKeyIdentifier))).KeyIdentifier.GetOctets());
        Assert.Equal(TimeSpan.FromDays(90), certificate.NotAfter - certificate.NotBefore);

        var record = await ca.Reader.FindCertificateAsync(outcome.SerialHex!);
        Assert.Equal(CertificateStatus.Issued, record!.Status);
        Assert.Equal(outcome.Certificate, record.Der);
        Assert.Equal(certificate.TbsCertificate.GetDerEncoded(), record.TbsDer);
    }

    [Fact]
    public async Task Issue_EmptySubject_SanIsCritical()
    {
        var outcome = await ca.Issuance.SubmitAsync(Submit(Csrs.Make("O=Example", san => san.AddUri(new Uri("spiffe://example.org/worker"))), "tls-client"));

        Assert.True(outcome.Status == RequestStatus.Issued, string.Join("; ", outcome.Problems));
        var certificate = new X509CertificateParser().ReadCertificate(outcome.Certificate);
        Assert.Empty(certificate.SubjectDN.GetOidList());
        Assert.Contains(X509Extensions.SubjectAlternativeName.Id, certificate.GetCriticalExtensionOids());
    }

    public static TheoryData<string, string> BadCsrs => new()
    {
        { "bad signature", "the CSR's signature does not verify" },
        { "weak key", "the RSA key has 1024 bits" },
        { "bad names", "contains an underscore" },
        { "disallowed identifier", "ip:8.8.8.8: is not in the networks profile 'tls-server' allows" },
        { "garbage", "the input is neither DER nor PEM" },
        { "empty", "the CSR is empty" },
        { "10 MB", "the CSR is 10485760 bytes; at most 65536 are accepted" },
        { "unknown profile", "There is no profile 'no-such-profile'" },
    };

    private static byte[] Bouncy(string subject, GeneralName[] names, int rsaBits = 0)
    {
        Org.BouncyCastle.Crypto.AsymmetricCipherKeyPair key;
        if (rsaBits > 0)
        {
            var rsa = new RsaKeyPairGenerator();
            rsa.Init(new RsaKeyGenerationParameters(BigInteger.ValueOf(65537), new SecureRandom(), rsaBits, 64));
            key = rsa.GenerateKeyPair();
        }
        else
        {
            var ec = new ECKeyPairGenerator();
            ec.Init(new ECKeyGenerationParameters(Org.BouncyCastle.Asn1.Sec.SecObjectIdentifiers.SecP256r1, new SecureRandom()));
            key = ec.GenerateKeyPair();
        }

        var extensions = new X509ExtensionsGenerator();
        extensions.AddExtension(X509Extensions.SubjectAlternativeName, false, new GeneralNames(names));
        var attributes = new Org.BouncyCastle.Asn1.DerSet(new Org.BouncyCastle.Asn1.Pkcs.AttributePkcs(
            Org.BouncyCastle.Asn1.Pkcs.PkcsObjectIdentifiers.Pkcs9AtExtensionRequest, new Org.BouncyCastle.Asn1.DerSet(extensions.Generate())));
        return new Pkcs10CertificationRequest(new Asn1SignatureFactory(rsaBits > 0 ? "SHA256WITHRSA" : "SHA256WITHECDSA", key.Private), new X509Name(subject), key.Public, attributes).GetEncoded();
    }

    private static byte[] BadCsr(string kind)
    {
        switch (kind)
        {
            case "bad signature":
                var good = Csrs.Dns("tampered.example.com");
                good[^10] ^= 0x01;
                return good;
            case "weak key":
                return Bouncy("CN=weak.example.com", [new GeneralName(GeneralName.DnsName, "weak.example.com")], rsaBits: 1024);
            case "bad names":
                return Bouncy("CN=bad_name.example.com", [new GeneralName(GeneralName.DnsName, "bad_name.example.com")]);
            case "disallowed identifier":
                return Csrs.Make("CN=public.example.com", san =>
                {
                    san.AddDnsName("public.example.com");
                    san.AddIpAddress(IPAddress.Parse("8.8.8.8"));
                });
            case "garbage":
                return "this is not a certificate request"u8.ToArray();
            case "empty":
                return [];
            case "10 MB":
                return new byte[10 * 1024 * 1024];
            default:
                return Csrs.Dns("fine.example.com");
        }
    }

    [Theory]
    [MemberData(nameof(BadCsrs))]
    public async Task Submit_BadCsr_IsRejectedWithItsReasonSignsNothingAndIsAudited(string kind, string reason)
    {
        var signaturesBefore = ca.Hsm.Operations;
        var certificatesBefore = (await ca.Reader.CountCertificatesAsync()).Values.Sum();

        var outcome = await ca.Issuance.SubmitAsync(Submit(BadCsr(kind), kind == "unknown profile" ? "no-such-profile" : "tls-server"));

        Assert.Equal(RequestStatus.Rejected, outcome.Status);
        Assert.Contains(outcome.Problems, p => p.Contains(reason, StringComparison.Ordinal));
        Assert.Null(outcome.Certificate);
        Assert.Equal(signaturesBefore, ca.Hsm.Operations);
        Assert.Equal(certificatesBefore, (await ca.Reader.CountCertificatesAsync()).Values.Sum());
        var request = await ca.Reader.FindRequestAsync(outcome.RequestId);
        Assert.Equal(RequestStatus.Rejected, request!.Status);
        Assert.Contains(request.Problems, p => p.Contains(reason, StringComparison.Ordinal));
        Assert.Contains(await ca.Reader.ListAuditAsync(20), a => a.Action == "request.rejected" && a.Subject == $"request:{outcome.RequestId}");
    }

    [Fact]
    public async Task Submit_500Concurrently_Gives500DistinctSerials500RowsAndValidSignatures()
    {
        var csr = Csrs.Dns("load.example.com", "load2.example.com");
        var issuedBefore = await ca.CountAsync(CertificateStatus.Issued);
        var outcomes = new ConcurrentBag<IssuanceOutcome>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 500), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, token) =>
            outcomes.Add(await ca.Issuance.SubmitAsync(Submit(csr, "tls-server", $"load-{i}"), token)));

        Assert.Equal(500, outcomes.Count(o => o.Status == RequestStatus.Issued));
        Assert.Equal(500, outcomes.Select(o => o.SerialHex).Distinct().Count());
        Assert.Equal(issuedBefore + 500, await ca.CountAsync(CertificateStatus.Issued));
        var issuerKey = ca.Issuing.GetPublicKey();
        foreach (var outcome in outcomes)
        {
            var certificate = new X509CertificateParser().ReadCertificate(outcome.Certificate);
            certificate.Verify(issuerKey);
            Assert.Equal(outcome.SerialHex, certificate.SerialNumber.ToString(16));
        }
    }

    [Fact]
    public async Task ManualProfile_RequesterCannotApproveOwnRequest_OfficerCan()
    {
        var pending = await ca.Issuance.SubmitAsync(Submit(CsrFor("code-signing"), "code-signing", requester: "carol"));
        Assert.Equal(RequestStatus.Pending, pending.Status);
        Assert.Equal(1, pending.ApprovalsNeeded);

        var own = await Assert.ThrowsAsync<CaException>(() => ca.Issuance.DecideAsync(pending.RequestId, "carol", approve: true, "mine"));
        Assert.Equal(CaErrorKind.PolicyViolation, own.Kind);
        Assert.Equal(RequestStatus.Pending, (await ca.Reader.FindRequestAsync(pending.RequestId))!.Status);

        var issued = await ca.Issuance.DecideAsync(pending.RequestId, "officer-dave", approve: true, "build server reviewed");
        Assert.Equal(RequestStatus.Issued, issued.Status);
        var request = await ca.Reader.FindRequestAsync(pending.RequestId);
        Assert.Equal(["officer-dave"], request!.Approvals);
        Assert.Contains(await ca.Reader.ListAuditAsync(20), a => a.Action == "request.approved" && a.Actor == "officer-dave");
    }

    [Fact]
    public async Task ManualProfile_TwoApprovers_IssuesOnlyAfterTwoDistinctOfficers()
    {
        var pending = await ca.Issuance.SubmitAsync(Submit(Csrs.Dns("two.example.internal"), "two-officers", requester: "erin"));

        var first = await ca.Issuance.DecideAsync(pending.RequestId, "officer-1", approve: true, "ok");
        Assert.Equal(RequestStatus.Pending, first.Status);
        Assert.Equal(1, first.ApprovalsNeeded);

        var twice = await Assert.ThrowsAsync<CaException>(() => ca.Issuance.DecideAsync(pending.RequestId, "OFFICER-1", approve: true, "again"));
        Assert.Equal(CaErrorKind.AlreadyExists, twice.Kind);

        var second = await ca.Issuance.DecideAsync(pending.RequestId, "officer-2", approve: true, "ok");
        Assert.Equal(RequestStatus.Issued, second.Status);
        Assert.NotNull(second.Certificate);
    }

    [Fact]
    public async Task ManualProfile_Rejection_EndsTheRequest()
    {
        var pending = await ca.Issuance.SubmitAsync(Submit(CsrFor("code-signing"), "code-signing", requester: "frank"));

        var rejected = await ca.Issuance.DecideAsync(pending.RequestId, "officer-gina", approve: false, "unknown build host");

        Assert.Equal(RequestStatus.Rejected, rejected.Status);
        Assert.Equal(["rejected by officer-gina: unknown build host"], rejected.Problems);
        await Assert.ThrowsAsync<CaException>(() => ca.Issuance.DecideAsync(pending.RequestId, "officer-hal", approve: true, "too late"));
    }
}
