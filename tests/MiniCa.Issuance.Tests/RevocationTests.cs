using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MiniCa.Authority.Issuance;
using MiniCa.Authority.Ocsp;
using MiniCa.Authority.Revocation;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Data;
using MiniCa.Hosting;
using MiniCa.TestSupport;
using Org.BouncyCastle.X509;

namespace MiniCa.Issuance.Tests;

[Collection(IssuanceCollection.Name)]
public sealed class RevocationTests(IssuanceFixture ca)
{
    /// <summary>
    /// Issues a tls-server certificate for <paramref name="name"/>, for <paramref name="key"/> or a key of its own: a
    /// revocation for keyCompromise revokes every certificate of the key, so tests of one revocation use one key each.
    /// </summary>
    private async Task<IssuanceOutcome> IssueAsync(string name, ECDsa? key = null)
    {
        using var own = key is null ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : null;
        var outcome = await ca.Issuance.SubmitAsync(new IssuanceSubmission { Csr = Csr(name, key ?? own!), Profile = "tls-server", Requester = "alice", Source = "test" });
        Assert.Equal(RequestStatus.Issued, outcome.Status);
        return outcome;
    }

    private static byte[] Csr(string name, ECDsa key) => Csrs.Make("CN=" + name, san => san.AddDnsName(name), key);

    private string Write(string file, byte[] der, string label)
    {
        var path = Path.Combine(ca.WorkDirectory, file);
        File.WriteAllText(path, System.Security.Cryptography.PemEncoding.WriteString(label, der));
        return path;
    }

    [Fact]
    public async Task Revoke_IssuedCertificate_IsRecordedWithReasonAndAudited()
    {
        var issued = await IssueAsync("revoke-me.example.com");

        var revoked = await ca.Revocation.RevokeAsync(issued.SerialHex!.ToUpperInvariant(), "keyCompromise", DateTimeOffset.UtcNow.AddHours(-2), "officer-ann");

        Assert.Equal(CertificateStatus.Revoked, revoked.Status);
        Assert.Equal("keyCompromise", revoked.RevocationReason);
        Assert.NotNull(revoked.InvalidityDate);
        Assert.Contains(await ca.Reader.ListAuditAsync(10), a => a.Action == "certificate.revoked" && a.Subject == $"certificate:{issued.SerialHex}" && a.Actor == "officer-ann");
    }

    [Fact]
    public async Task Revoke_KeyCompromise_RevokesEveryCertificateOfTheKeyAndTheKeyIsRefusedAfterwards()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var reported = await IssueAsync("compromised-1.example.com", key);
        var sameKey = await IssueAsync("compromised-2.example.com", key);
        var otherKey = await IssueAsync("unrelated.example.com");
        var waiting = await ca.Issuance.SubmitAsync(new IssuanceSubmission { Csr = Csrs.Make("CN=Compromised Build Server", key: key), Profile = "code-signing", Requester = "carol", Source = "test" });
        Assert.Equal(RequestStatus.Pending, waiting.Status);

        await ca.Revocation.RevokeAsync(reported.SerialHex!, "keyCompromise", null, "officer-ann");

        // BR §4.9.1.1: the other certificate of the key is revoked in the same transaction, the unrelated one is not.
        var sibling = (await ca.Reader.FindCertificateAsync(sameKey.SerialHex!))!;
        Assert.Equal(CertificateStatus.Revoked, sibling.Status);
        Assert.Equal("keyCompromise", sibling.RevocationReason);
        Assert.Equal(CertificateStatus.Issued, (await ca.Reader.FindCertificateAsync(otherKey.SerialHex!))!.Status);
        Assert.Contains(await ca.Reader.ListAuditAsync(20), a => a.Action == "certificate.revoked" && a.Subject == $"certificate:{sameKey.SerialHex}"
            && a.Details.Contains($"the key of certificate {reported.SerialHex}", StringComparison.Ordinal));
        var crl = new X509CrlParser().ReadCrl((await ca.Crls.GenerateAsync("issuing", "test")).Der);
        Assert.NotNull(crl.GetRevokedCertificate(new Org.BouncyCastle.Math.BigInteger(sameKey.SerialHex, 16)));

        // BR §6.1.1.3 (4): a new request for the key is refused and recorded, with nothing signed.
        var issuedBefore = await ca.CountAsync(CertificateStatus.Issued);
        var again = await ca.Issuance.SubmitAsync(new IssuanceSubmission { Csr = Csr("compromised-3.example.com", key), Profile = "tls-server", Requester = "alice", Source = "test" });
        Assert.Equal(RequestStatus.Rejected, again.Status);
        var problem = Assert.Single(again.Problems);
        Assert.Contains($"certificate:{reported.SerialHex} was revoked for keyCompromise", problem, StringComparison.Ordinal);
        Assert.Contains("BR §6.1.1.3 (4)", problem, StringComparison.Ordinal);
        Assert.Equal(RequestStatus.Rejected, (await ca.Reader.FindRequestAsync(again.RequestId))!.Status);
        Assert.Equal(issuedBefore, await ca.CountAsync(CertificateStatus.Issued));
        Assert.Contains(await ca.Reader.ListAuditAsync(20), a => a.Action == "request.rejected" && a.Subject == $"request:{again.RequestId}");

        // A request that fails for other reasons lists the blocked key among them.
        var alsoBad = await ca.Issuance.SubmitAsync(new IssuanceSubmission { Csr = Csr("under_score.example.com", key), Profile = "tls-server", Requester = "alice", Source = "test" });
        Assert.Equal(RequestStatus.Rejected, alsoBad.Status);
        Assert.True(alsoBad.Problems.Count >= 2, string.Join("; ", alsoBad.Problems));
        Assert.Contains(alsoBad.Problems, p => p.Contains("reported compromised", StringComparison.Ordinal));

        // A request already waiting for approval when the key was blocked fails when approved.
        var approved = await ca.Issuance.DecideAsync(waiting.RequestId, "officer-dave", approve: true, "reviewed");
        Assert.Equal(RequestStatus.Failed, approved.Status);
        Assert.Contains(approved.Problems, p => p.Contains("reported compromised", StringComparison.Ordinal));
        Assert.Equal(issuedBefore, await ca.CountAsync(CertificateStatus.Issued));
    }

    [Fact]
    public async Task KeyFingerprints_OfCertificatesRecordedWithout_AreFilledAndFoundByAKeyCompromiseRevocation()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var first = await IssueAsync("legacy-1.example.com", key);
        var second = await IssueAsync("legacy-2.example.com", key);
        var contexts = ca.Services.GetRequiredService<IDbContextFactory<MiniCaDbContext>>();
        async Task ForgetFingerprintsAsync()
        {
            await using var db = await contexts.CreateDbContextAsync();
            // As rows recorded before the fingerprint was kept.
            Assert.Equal(2, await db.Certificates.Where(c => c.SerialHex == first.SerialHex || c.SerialHex == second.SerialHex)
                .ExecuteUpdateAsync(u => u.SetProperty(c => c.PublicKeySha256, (string?)null)));
        }

        async Task<string?> FingerprintAsync(string serial)
        {
            await using var db = await contexts.CreateDbContextAsync();
            return await db.Certificates.Where(c => c.SerialHex == serial).Select(c => c.PublicKeySha256).SingleAsync();
        }

        await ForgetFingerprintsAsync();
        var ledger = ca.Services.GetRequiredService<IRevocationLedger>();
        Assert.True(await ledger.FillKeyFingerprintsAsync() >= 2);
        var expected = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
        Assert.Equal(expected, await FingerprintAsync(first.SerialHex!));
        Assert.Equal(expected, await FingerprintAsync(second.SerialHex!));
        Assert.Equal(0, await ledger.FillKeyFingerprintsAsync());

        // Without the background pass, the revocation fills them itself before it looks for the key's certificates.
        await ForgetFingerprintsAsync();
        await ca.Revocation.RevokeAsync(first.SerialHex!, "keyCompromise", null, "officer-ann");
        Assert.Equal(CertificateStatus.Revoked, (await ca.Reader.FindCertificateAsync(second.SerialHex!))!.Status);
    }

    [Fact]
    public async Task Revoke_OcspResponderCertificate_TheResponderMovesToANewCertificateAndAfterKeyCompromiseToANewKey()
    {
        var responder = ca.Services.GetRequiredService<OcspResponderCertificate>();
        var first = await responder.GetAsync();

        await ca.Revocation.RevokeAsync(first.Certificate.SerialNumber.ToString(16), "keyCompromise", null, "officer-ann");

        // The blocked key is never certified again: a new HSM key under the next label, and its certificate.
        var second = await responder.GetAsync();
        Assert.NotEqual(first.Certificate.SerialNumber, second.Certificate.SerialNumber);
        Assert.NotEqual(first.Signer.PublicKeyInfo, second.Signer.PublicKeyInfo);
        Assert.Equal(responder.KeyName + "-2", second.Signer.KeyName);
        Assert.Equal(second.Signer.PublicKeyInfo, second.Certificate.SubjectPublicKeyInfo);
        second.Certificate.Verify(ca.Issuing.GetPublicKey());

        // Revoked for another reason, the responder keeps its key and gets a new certificate for it.
        await ca.Revocation.RevokeAsync(second.Certificate.SerialNumber.ToString(16), "superseded", null, "officer-ann");
        var third = await responder.GetAsync();
        Assert.NotEqual(second.Certificate.SerialNumber, third.Certificate.SerialNumber);
        Assert.Equal(second.Signer.KeyName, third.Signer.KeyName);
    }

    [Fact]
    public async Task Revoke_Twice_IsAClearErrorUnlessTheKeyIsReportedCompromisedAfterwards()
    {
        var issued = await IssueAsync("twice.example.com");
        var first = await ca.Revocation.RevokeAsync(issued.SerialHex!, "superseded", null, "officer-ann");

        var error = await Assert.ThrowsAsync<CaException>(() => ca.Revocation.RevokeAsync(issued.SerialHex!, "cessationOfOperation", null, "officer-ann"));
        Assert.Equal(CaErrorKind.AlreadyExists, error.Kind);
        Assert.Contains("already revoked", error.Message, StringComparison.Ordinal);

        // The key is reported compromised later: the reason becomes keyCompromise, the revocation date stays.
        var raised = await ca.Revocation.RevokeAsync(issued.SerialHex!, "keyCompromise", null, "officer-ann");
        Assert.Equal("keyCompromise", raised.RevocationReason);
        Assert.Equal(first.RevokedAt!.Value.ToUnixTimeMilliseconds(), raised.RevokedAt!.Value.ToUnixTimeMilliseconds());
        var crl = new X509CrlParser().ReadCrl((await ca.Crls.GenerateAsync("issuing", "test")).Der);
        Assert.Equal(1, ReasonCode(crl, issued.SerialHex!)); // RFC 5280 §5.3.1: keyCompromise (1)

        var third = await Assert.ThrowsAsync<CaException>(() => ca.Revocation.RevokeAsync(issued.SerialHex!, "keyCompromise", null, "officer-ann"));
        Assert.Equal(CaErrorKind.AlreadyExists, third.Kind);
    }

    [Theory]
    [InlineData("00deadbeef", "keyCompromise", CaErrorKind.NotFound, "No certificate with serial deadbeef")]
    [InlineData("not-hex", "keyCompromise", CaErrorKind.Malformed, "is not a serial number in hex")]
    [InlineData("01", "stolen", CaErrorKind.Malformed, "'stolen' is not a revocation reason")]
    public async Task Revoke_BadInput_IsAClearError(string serial, string reason, CaErrorKind kind, string message)
    {
        var error = await Assert.ThrowsAsync<CaException>(() => ca.Revocation.RevokeAsync(serial, reason, null, "officer-ann"));

        Assert.Equal(kind, error.Kind);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revoke_CertificateHoldUnderAProfileWithoutIt_IsRefused()
    {
        var issued = await IssueAsync("hold.example.com");

        var error = await Assert.ThrowsAsync<CaException>(() => ca.Revocation.RevokeAsync(issued.SerialHex!, "certificateHold", null, "officer-ann"));

        Assert.Equal(CaErrorKind.PolicyViolation, error.Kind);
        Assert.Equal(CertificateStatus.Issued, (await ca.Reader.FindCertificateAsync(issued.SerialHex!))!.Status);
    }

    [Fact]
    public async Task Crl_AfterRevocation_VerifiesWithOpenSslAndCertToolAndRejectsOnlyTheRevokedCertificate()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        var certtool = Prerequisites.RequireProgram("certtool", "gnutls-bin");
        var good = await IssueAsync("good.example.com");
        var bad = await IssueAsync("bad.example.com");
        await ca.Revocation.RevokeAsync(bad.SerialHex!, "keyCompromise", null, "officer-ann");

        var issuingCrl = await ca.Crls.GenerateAsync("issuing", "test");
        var rootCrl = await ca.Crls.GenerateAsync("root", "test");

        var issuingCrlPem = Write("issuing.crl.pem", issuingCrl.Der, "X509 CRL");
        var rootCrlPem = Write("root.crl.pem", rootCrl.Der, "X509 CRL");
        var root = Path.Combine(ca.CaDirectory, "root.pem");
        var issuing = Path.Combine(ca.CaDirectory, "issuing.pem");

        foreach (var (crl, issuer) in new[] { (issuingCrlPem, issuing), (rootCrlPem, root) })
        {
            var check = await ProcessRunner.RunAsync(openssl, ["crl", "-in", crl, "-CAfile", issuer, "-noout"]);
            Assert.True(check.ExitCode == 0, check.Combined);
            Assert.Contains("verify OK", check.StandardError, StringComparison.Ordinal);
            var gnutls = await ProcessRunner.RunAsync(certtool, ["--verify-crl", "--load-ca-certificate", issuer, "--infile", crl]);
            Assert.True(gnutls.ExitCode == 0, gnutls.Combined);
            Assert.Contains("Verification output: Verified.", gnutls.Combined, StringComparison.Ordinal);
        }

        string[] Verify(string certificate) => ["verify", "-x509_strict", "-crl_check_all", "-CAfile", root, "-untrusted", issuing, "-CRLfile", issuingCrlPem, "-CRLfile", rootCrlPem, certificate];
        var goodResult = await ProcessRunner.RunAsync(openssl, Verify(Write("good.pem", good.Certificate!, "CERTIFICATE")));
        var badResult = await ProcessRunner.RunAsync(openssl, Verify(Write("bad.pem", bad.Certificate!, "CERTIFICATE")));

        Assert.True(goodResult.ExitCode == 0, goodResult.Combined);
        Assert.NotEqual(0, badResult.ExitCode);
        Assert.Contains("certificate revoked", badResult.Combined, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Crl_Entries_CarryReasonAndInvalidityDate()
    {
        var issued = await IssueAsync("entry.example.com");
        var invalidSince = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        await ca.Revocation.RevokeAsync(issued.SerialHex!, "affiliationChanged", invalidSince, "officer-ann");

        var crl = new X509Crl(Org.BouncyCastle.Asn1.X509.CertificateList.GetInstance(Org.BouncyCastle.Asn1.Asn1Object.FromByteArray((await ca.Crls.GenerateAsync("issuing", "test")).Der)));

        crl.Verify(ca.Issuing.GetPublicKey());
        var entry = crl.GetRevokedCertificate(new Org.BouncyCastle.Math.BigInteger(issued.SerialHex, 16));
        Assert.NotNull(entry);
        Assert.Equal(3, ReasonCode(crl, issued.SerialHex!));
        Assert.Equal(invalidSince.UtcDateTime, Org.BouncyCastle.Asn1.Asn1GeneralizedTime.GetInstance(Org.BouncyCastle.X509.Extension.X509ExtensionUtilities.FromExtensionValue(entry.GetExtensionValue(Org.BouncyCastle.Asn1.X509.X509Extensions.InvalidityDate))).ToDateTime());
        Assert.Empty(MiniCa.Core.Linting.CrlLinter.Default.Run(new MiniCa.Core.Linting.CrlLintContext { Der = crl.GetEncoded(), Issuer = ca.Issuing }));
    }

    [Fact]
    public async Task DeltaCrl_AfterRevocation_ListsItAndOpenSslWithDeltasRejectsTheCertificate()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        var options = MiniCaConfiguration.Load(["--config", ca.ConfigFile, "--Crl:DeltaIntervalMinutes=60"]).Options;
        using var crls = ActivatorUtilities.CreateInstance<CrlService>(ca.Services, options);
        var complete = await crls.GenerateAsync("issuing", "test");
        var victim = await IssueAsync("delta.example.com");
        await ca.Revocation.RevokeAsync(victim.SerialHex!, "cessationOfOperation", null, "officer-ann");

        var delta = await crls.GenerateDeltaAsync("issuing", "test");

        Assert.Equal("issuing-delta", delta.Authority);
        Assert.True(delta.Number > complete.Number);
        var parsed = new X509Crl(Org.BouncyCastle.Asn1.X509.CertificateList.GetInstance(Org.BouncyCastle.Asn1.Asn1Object.FromByteArray(delta.Der)));
        Assert.Equal(complete.Number, Org.BouncyCastle.Asn1.DerInteger.GetInstance(Org.BouncyCastle.X509.Extension.X509ExtensionUtilities.FromExtensionValue(
            parsed.GetExtensionValue(Org.BouncyCastle.Asn1.X509.X509Extensions.DeltaCrlIndicator))).LongValueExact);
        Assert.Contains(Org.BouncyCastle.Asn1.X509.X509Extensions.DeltaCrlIndicator.Id, parsed.GetCriticalExtensionOids());
        Assert.NotNull(parsed.GetRevokedCertificate(new Org.BouncyCastle.Math.BigInteger(victim.SerialHex, 16)));
        var completeParsed = new X509Crl(Org.BouncyCastle.Asn1.X509.CertificateList.GetInstance(Org.BouncyCastle.Asn1.Asn1Object.FromByteArray(complete.Der)));
        Assert.NotNull(completeParsed.GetExtensionValue(Org.BouncyCastle.Asn1.X509.X509Extensions.FreshestCrl));

        var root = Path.Combine(ca.CaDirectory, "root.pem");
        var issuing = Path.Combine(ca.CaDirectory, "issuing.pem");
        var completePem = Write("complete.crl.pem", complete.Der, "X509 CRL");
        var deltaPem = Write("delta.crl.pem", delta.Der, "X509 CRL");
        var check = await ProcessRunner.RunAsync(openssl, ["crl", "-in", deltaPem, "-CAfile", issuing, "-noout"]);
        Assert.Contains("verify OK", check.StandardError, StringComparison.Ordinal);
        var victimPem = Write("delta-victim.pem", victim.Certificate!, "CERTIFICATE");
        string[] Verify(params string[] crlFiles) => ["verify", "-crl_check", "-use_deltas", "-CAfile", root, "-untrusted", issuing, .. crlFiles.SelectMany(f => new[] { "-CRLfile", f }), victimPem];

        Assert.Equal(0, (await ProcessRunner.RunAsync(openssl, Verify(completePem))).ExitCode);
        var withDelta = await ProcessRunner.RunAsync(openssl, Verify(completePem, deltaPem));
        Assert.NotEqual(0, withDelta.ExitCode);
        Assert.Contains("certificate revoked", withDelta.Combined, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeltaCrl_AfterAReasonRaisedToKeyCompromise_ListsTheCertificateAndItsSiblingWithTheNewReason()
    {
        var options = MiniCaConfiguration.Load(["--config", ca.ConfigFile, "--Crl:DeltaIntervalMinutes=60"]).Options;
        using var crls = ActivatorUtilities.CreateInstance<CrlService>(ca.Services, options);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var reported = await IssueAsync("raised-1.example.com", key);
        var sibling = await IssueAsync("raised-2.example.com", key);
        await ca.Revocation.RevokeAsync(reported.SerialHex!, "superseded", null, "officer-ann");
        await ca.Revocation.RevokeAsync(sibling.SerialHex!, "cessationOfOperation", null, "officer-ann");
        // As if both were revoked yesterday, long before the complete CRL that the delta is based on.
        var yesterday = DateTimeOffset.UtcNow.AddDays(-1);
        var contexts = ca.Services.GetRequiredService<IDbContextFactory<MiniCaDbContext>>();
        await using (var db = await contexts.CreateDbContextAsync())
        {
            Assert.Equal(2, await db.Certificates.Where(c => c.SerialHex == reported.SerialHex || c.SerialHex == sibling.SerialHex)
                .ExecuteUpdateAsync(u => u.SetProperty(c => c.RevokedAt, yesterday).SetProperty(c => c.RevocationChangedAt, yesterday)));
        }

        var complete = await crls.GenerateAsync("issuing", "test");
        var changedFrom = DateTimeOffset.UtcNow;
        await ca.Revocation.RevokeAsync(reported.SerialHex!, "keyCompromise", null, "officer-ann");
        var delta = new X509CrlParser().ReadCrl((await crls.GenerateDeltaAsync("issuing", "test")).Der);

        // Both entries are on the delta with keyCompromise (1), and keep their revocation date (RFC 5280 §5.2.4: the
        // complete CRL and its delta together must say what a complete CRL made now would).
        Assert.Equal(complete.Number, Org.BouncyCastle.Asn1.DerInteger.GetInstance(Org.BouncyCastle.X509.Extension.X509ExtensionUtilities.FromExtensionValue(
            delta.GetExtensionValue(Org.BouncyCastle.Asn1.X509.X509Extensions.DeltaCrlIndicator))).LongValueExact);
        foreach (var serial in new[] { reported.SerialHex!, sibling.SerialHex! })
        {
            Assert.Equal(1, ReasonCode(delta, serial));
            var entry = delta.GetRevokedCertificate(new Org.BouncyCastle.Math.BigInteger(serial, 16))!;
            Assert.Equal(yesterday.ToUnixTimeSeconds(), new DateTimeOffset(entry.RevocationDate).ToUnixTimeSeconds());
            Assert.Equal("keyCompromise", (await ca.Reader.FindCertificateAsync(serial))!.RevocationReason);
        }

        // Other processes' OCSP caches learn of both from the same look-up.
        var changed = await ca.Services.GetRequiredService<IRevocationLedger>().RevokedSinceAsync(changedFrom);
        Assert.Contains(changed, c => c.SerialHex == reported.SerialHex);
        Assert.Contains(changed, c => c.SerialHex == sibling.SerialHex);
    }

    /// <summary>The CRL entry's reasonCode (RFC 5280 §5.3.1) of <paramref name="serialHex"/>.</summary>
    private static int ReasonCode(X509Crl crl, string serialHex)
    {
        var entry = crl.GetRevokedCertificate(new Org.BouncyCastle.Math.BigInteger(serialHex, 16));
        Assert.NotNull(entry);
        return Org.BouncyCastle.Asn1.DerEnumerated.GetInstance(
            Org.BouncyCastle.X509.Extension.X509ExtensionUtilities.FromExtensionValue(entry.GetExtensionValue(Org.BouncyCastle.Asn1.X509.X509Extensions.ReasonCode)!)).IntValueExact;
    }

    [Fact]
    public async Task CrlNumbers_StrictlyIncrease_AlsoAcrossARestart()
    {
        var first = await ca.Crls.GenerateAsync("issuing", "test");
        var second = await ca.Crls.GenerateAsync("issuing", "test");

        // A second host on the same data directory (a restart, or another node): numbers go on from the database.
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddMiniCa(MiniCaConfiguration.Load(["--config", ca.ConfigFile]));
        long third;
        await using (var restarted = services.BuildServiceProvider())
        {
            third = (await restarted.GetRequiredService<CrlService>().GenerateAsync("issuing", "restarted")).Number;
        }

        var fourth = await ca.Crls.GenerateAsync("issuing", "test");

        Assert.True(first.Number < second.Number && second.Number < third && third < fourth.Number, $"{first.Number}, {second.Number}, {third}, {fourth.Number}");
        Assert.Equal(fourth.Number, (await ca.Services.GetRequiredService<IRevocationLedger>().FindCrlAsync("issuing"))!.Number);
    }
}
