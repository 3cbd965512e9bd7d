using Microsoft.Extensions.Logging;
using MiniCa.Authority.Issuance;
using MiniCa.Core.Authorities;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Core.Linting;
using MiniCa.Core.Revocation;
using MiniCa.Core.Signing;
using Org.BouncyCastle.X509;

namespace MiniCa.Authority.Revocation;

/// <summary>
/// Generates the full CRL of an authority: reserve the next cRLNumber, write the revoked entries straight into
/// the TBSCertList, lint it with a throw-away signature, sign it in the HSM, verify it, store and publish it.
/// </summary>
public sealed class CrlService(
    IAuthorityReader authorities,
    IKeyManager keys,
    IRevocationLedger ledger,
    CrlLinter linter,
    CaOptions options,
    TimeProvider time,
    ILogger<CrlService> logger) : IDisposable
{
    /// <summary>CRLs up to this many entries are linted entry by entry.</summary>
    public const int MaxEntriesLintedInFull = 10_000;

    private readonly ThrowAwaySigner _throwAway = new();
    private readonly Uri _baseUrl = options.PublicBaseUri;

    /// <summary>Where published CRLs are written as files.</summary>
    public string CrlDirectory => Path.Combine(options.DataDirectory, "crl");

    /// <summary>The name a delta CRL of <paramref name="authority"/> is stored and served under.</summary>
    public static string DeltaName(string authority) => authority + "-delta";

    /// <summary>Generates, signs, stores and publishes the complete CRL of <paramref name="authority"/>.</summary>
    public Task<CrlRecord> GenerateAsync(string authority, string actor, CancellationToken cancellationToken = default) =>
        GenerateAsync(authority, actor, baseCrl: null, cancellationToken);

    /// <summary>
    /// Generates the delta CRL of <paramref name="authority"/> (RFC 5280 §5.2.4): the revocations since its latest
    /// complete CRL, which is generated first when there is none.
    /// </summary>
    public async Task<CrlRecord> GenerateDeltaAsync(string authority, string actor, CancellationToken cancellationToken = default)
    {
        var baseCrl = await ledger.FindCrlSummaryAsync(authority, cancellationToken) ?? await GenerateAsync(authority, actor, cancellationToken);
        return await GenerateAsync(authority, actor, baseCrl, cancellationToken);
    }

    private async Task<CrlRecord> GenerateAsync(string authority, string actor, CrlRecord? baseCrl, CancellationToken cancellationToken)
    {
        var record = await authorities.FindActiveAsync(authority, cancellationToken)
            ?? throw new CaException(CaErrorKind.NotFound, $"There is no active authority '{authority}'.");
        var issuer = new X509CertificateParser().ReadCertificate(record.CertificateDer);
        var signer = keys.GetSigner(authority);
        var algorithm = SignatureAlgorithms.ForAuthority(options.Authorities[authority], signer.Algorithm);
        var number = await ledger.ReserveCrlNumberAsync(authority, cancellationToken);
        var thisUpdate = AuthorityCertificateBuilder.WholeSeconds(time.GetUtcNow());
        var nextUpdate = thisUpdate.AddHours(options.Crl.NextUpdateHours);

        var entries = 0;
        // The issuing authority signs subscriber certificates; every other authority signs only CAs, among them
        // the self-signed root, which carries no CRL DP to match a distribution point name against.
        var userCertificates = authority == options.IssuingAuthority;
        var header = new CrlHeader
        {
            IssuerNameDer = issuer.SubjectDN.GetDerEncoded(),
            IssuerKeyId = AuthorityCertificateBuilder.KeyIdentifierOf(issuer),
            SignatureAlgorithm = algorithm,
            ThisUpdate = thisUpdate,
            NextUpdate = nextUpdate,
            Number = number,
            DistributionPoint = userCertificates ? new Uri(_baseUrl, $"crl/{authority}.crl").AbsoluteUri : null,
            Scope = userCertificates ? CrlScope.UserCertificates : CrlScope.CaCertificates,
            BaseCrlNumber = baseCrl?.Number,
            FreshestCrl = options.Crl.DeltasEnabled ? new Uri(_baseUrl, $"crl/{DeltaName(authority)}.crl").AbsoluteUri : null,
        };
        // A delta lists what was revoked (or had its reason raised) since its base was made; a few entries already on
        // the base are harmless, a missed one is not, hence the margin for revocations committed while the base was
        // being built.
        var since = baseCrl is null ? (DateTimeOffset?)null : baseCrl.ThisUpdate - TimeSpan.FromMinutes(1);
        // The buffer is sized from the previous CRL (counting a million rows first would cost as much as reading
        // them); it grows by doubling when revocations outran the hint.
        var previous = baseCrl ?? await ledger.FindCrlSummaryAsync(authority, cancellationToken);
        var expected = baseCrl is null && previous is not null ? previous.Entries + (previous.Entries / 8) + 64 : 64;
        var image = CrlBuilder.Build(
            header,
            ledger.ReadRevoked(authority, since).Select(e =>
            {
                entries++;
                return e;
            }),
            expected);

        // Lint before sign, like certificates. A large CRL is linted through its header (same issuer, times,
        // number and extensions, no entries): parsing a million entries back would build the very object tree
        // the streaming writer avoids; entries come from rows whose serials the database keeps unique.
        var linted = entries <= MaxEntriesLintedInFull ? image : CrlBuilder.Build(header, []);
        var errors = linter.Run(new CrlLintContext { Der = linted.Complete(algorithm, _throwAway.Sign(linted.Tbs)), Issuer = issuer })
            .Where(f => f.Severity == LintSeverity.Error)
            .ToList();
        if (errors.Count > 0)
        {
            throw new CaException(CaErrorKind.PolicyViolation, $"The CRL of '{authority}' fails lints: {string.Join("; ", errors)}");
        }

        var signature = signer.Sign(algorithm, image.Tbs);
        // Verify the signature over the TBS bytes without parsing the CRL back.
        using (var issuerKey = PlatformSignatures.CreateKey(issuer.SubjectPublicKeyInfo))
        {
            if (!PlatformSignatures.Verify(issuerKey, algorithm, image.Tbs, signature))
            {
                throw new CaException(CaErrorKind.HsmOperationFailed, $"The HSM's signature on the CRL of '{authority}' does not verify.");
            }
        }

        // The one copy of the CRL: the builder's buffer is garbage from here on.
        var der = image.Complete(algorithm, signature);

        var name = baseCrl is null ? authority : DeltaName(authority);
        var crl = new CrlRecord(name, number, thisUpdate, nextUpdate, entries, der);
        await ledger.RecordCrlAsync(crl, new AuditEntry(actor, "crl.generated", $"crl:{name}",
            $"number {number}{(baseCrl is null ? string.Empty : $" (delta of {baseCrl.Number})")}, {entries} entries, next update {nextUpdate:u}"), cancellationToken);
        Directory.CreateDirectory(CrlDirectory);
        var file = Path.Combine(CrlDirectory, name + ".crl");
        await File.WriteAllBytesAsync(file + ".tmp", der, cancellationToken);
        File.Move(file + ".tmp", file, overwrite: true);
        logger.LogInformation("CRL {Number} of {Authority}: {Entries} entries, next update {NextUpdate:u}", number, name, entries, nextUpdate);
        return crl;
    }

    /// <inheritdoc />
    public void Dispose() => _throwAway.Dispose();
}
