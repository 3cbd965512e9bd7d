using Microsoft.Extensions.Logging;
using MiniCa.Core.Authorities;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Authority.Issuance;
using MiniCa.Core.Keys;
using MiniCa.Core.Linting;
using MiniCa.Core.Serials;
using MiniCa.Core.Signing;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;

namespace MiniCa.Authority;

/// <summary>
/// Creates the CA: for each configured authority, issuers first, a key generated in the HSM and a certificate
/// recorded as pending, signed by its issuer's key, verified, then activated. Runs once: it refuses when any
/// authority is recorded or any authority key already exists.
/// </summary>
public sealed class KeyCeremony(
    IKeyManager keys,
    IAuthorityStore store,
    ISerialNumberGenerator serials,
    CertificateLinter linter,
    TimeProvider time,
    ILogger<KeyCeremony> logger)
{
    /// <summary>Runs the ceremony for every authority in <paramref name="options"/>.</summary>
    /// <returns>The active authority certificates, issuers first.</returns>
    /// <exception cref="CaException">The CA is already initialised, or a step failed.</exception>
    public async Task<IReadOnlyList<AuthorityCertificate>> RunAsync(CaOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var recorded = await store.ListAsync(cancellationToken);
        if (recorded.Count > 0)
        {
            throw new CaException(
                CaErrorKind.AlreadyExists,
                $"The CA is already initialised ({string.Join(", ", recorded.Select(a => $"{a.Name}: {a.Status.ToString().ToLowerInvariant()}"))}); the key ceremony runs only once.");
        }

        var order = CaOptionsValidator.CreationOrder(options.Authorities);
        var existingKeys = order.Where(keys.KeyExists).ToList();
        if (existingKeys.Count > 0)
        {
            throw new CaException(
                CaErrorKind.AlreadyExists,
                $"The HSM already holds key(s) {string.Join(", ", existingKeys.Select(k => $"'{k}'"))} but no CA is recorded in the database; " +
                "an earlier ceremony was interrupted or the token belongs to another CA. Use an empty token (or remove those keys) and run init again.");
        }

        var baseUrl = options.PublicBaseUri;
        var created = new Dictionary<string, (IKeySigner Signer, X509Certificate Certificate)>(StringComparer.Ordinal);
        var result = new List<AuthorityCertificate>();
        foreach (var name in order)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var authority = options.Authorities[name];
            var algorithm = KeyAlgorithm.Parse(authority.KeyAlgorithm);
            logger.LogInformation("Generating the {Algorithm} key of authority {Authority} in the HSM", algorithm, name);
            var signer = keys.GenerateKey(name, algorithm);

            var issuerName = string.IsNullOrEmpty(authority.Issuer) ? name : authority.Issuer;
            var (issuerSigner, issuerCertificate) = issuerName == name ? (signer, null) : created[issuerName];
            var signatureAlgorithm = SignatureAlgorithms.ForAuthority(options.Authorities[issuerName], issuerSigner.Algorithm);

            var notBefore = time.GetUtcNow();
            var notAfter = notBefore.AddDays(authority.ValidityDays);
            if (issuerCertificate is not null && notAfter > issuerCertificate.NotAfter)
            {
                // A CA certificate outliving its issuer would fail path validation after the issuer expires
                // (RFC 5280 §6.1.3 (a)(2)); end it with its issuer.
                notAfter = new DateTimeOffset(issuerCertificate.NotAfter, TimeSpan.Zero);
            }

            var serial = serials.NewSerial();
            var tbs = AuthorityCertificateBuilder.BuildTbs(new AuthorityCertificateRequest
            {
                Serial = serial,
                Subject = new X509Name(authority.Subject),
                SubjectPublicKey = signer.PublicKeyInfo,
                IssuerCertificate = issuerCertificate,
                IssuerName = issuerCertificate is null ? null : issuerName,
                NotBefore = notBefore,
                NotAfter = notAfter,
                PathLength = authority.PathLength,
                SignatureAlgorithm = signatureAlgorithm,
                PublicBaseUrl = baseUrl,
            });
            var tbsDer = tbs.GetDerEncoded();

            // Lint before sign, as for every certificate (ARCHITECTURE.md §2): CA rules apply (no profile).
            using (var throwAway = new ThrowAwaySigner())
            {
                var errors = linter.Run(new LintContext { Der = throwAway.Certificate(tbs, tbsDer), IssuerCertificate = issuerCertificate, Now = notBefore })
                    .Where(f => f.Severity == LintSeverity.Error)
                    .ToList();
                if (errors.Count > 0)
                {
                    throw new CaException(CaErrorKind.PolicyViolation, $"The certificate of authority '{name}' fails lints: {string.Join("; ", errors)}");
                }
            }

            // Record what is about to be signed before the HSM signs it (ARCHITECTURE.md §2).
            await store.ReserveAsync(
                new AuthorityCertificate
                {
                    Name = name,
                    IssuerName = issuerName,
                    SerialHex = serial.ToString(16),
                    Subject = authority.Subject,
                    KeyUri = signer.KeyUri,
                    NotBefore = tbs.StartDate.ToDateTime(),
                    NotAfter = tbs.EndDate.ToDateTime(),
                    TbsDer = tbsDer,
                    Status = AuthorityStatus.Pending,
                },
                cancellationToken);

            var signature = issuerSigner.Sign(signatureAlgorithm, tbsDer);
            var certificate = AuthorityCertificateBuilder.Assemble(tbs, signature, issuerSigner.PublicKey);
            await store.ActivateAsync(name, certificate.GetEncoded(), cancellationToken);
            logger.LogInformation("Authority {Authority} created: serial {Serial}, subject {Subject}", name, serial.ToString(16), authority.Subject);

            created[name] = (signer, certificate);
            result.Add((await store.FindActiveAsync(name, cancellationToken))!);
        }

        return result;
    }
}
