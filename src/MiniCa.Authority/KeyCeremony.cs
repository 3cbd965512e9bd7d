using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using MiniCa.Core.Authorities;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Core.Issuance;
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
/// recorded as pending, signed by its issuer's key, verified, then activated. Runs once: it refuses when every
/// configured authority is active, and when an authority key exists that this database did not record generating. A
/// ceremony that was interrupted is resumed: a key it generated (recorded by CKA_ID just before) is certified, an
/// authority left pending has its recorded bytes signed with the key already in the HSM, and the authorities after
/// it are created as usual.
/// </summary>
public sealed class KeyCeremony(
    IKeyManager keys,
    IAuthorityStore store,
    ISerialNumberGenerator serials,
    CertificateLinter linter,
    TimeProvider time,
    ILogger<KeyCeremony> logger)
{
    /// <summary>Runs (or resumes) the ceremony for every authority in <paramref name="options"/>.</summary>
    /// <returns>The active authority certificates, issuers first.</returns>
    /// <exception cref="CaException">The CA is already initialised, or a step failed.</exception>
    public async Task<IReadOnlyList<AuthorityCertificate>> RunAsync(CaOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var recorded = (await store.ListAsync(cancellationToken)).ToDictionary(a => a.Name, StringComparer.Ordinal);
        // Finished when every configured authority is active; a ceremony interrupted after some of them resumes.
        if (options.Authorities.Keys.All(name => recorded.TryGetValue(name, out var a) && a.Status == AuthorityStatus.Active))
        {
            throw new CaException(
                CaErrorKind.AlreadyExists,
                $"The CA is already initialised ({Describe(recorded.Values)}); the key ceremony runs only once.");
        }

        var order = CaOptionsValidator.CreationOrder(options.Authorities);
        var unknown = recorded.Keys.Where(name => !options.Authorities.ContainsKey(name)).ToList();
        if (unknown.Count > 0)
        {
            throw new CaException(
                CaErrorKind.InvalidState,
                $"An interrupted ceremony recorded authorities the configuration no longer has ({string.Join(", ", unknown.Select(n => $"'{n}'"))}); " +
                $"resume it with the configuration it started with ({Describe(recorded.Values)}).");
        }

        var generated = await GeneratedKeysAsync(options, order.Where(name => !recorded.ContainsKey(name)), cancellationToken);

        var created = new Dictionary<string, (IKeySigner Signer, X509Certificate Certificate)>(StringComparer.Ordinal);
        var result = new List<AuthorityCertificate>();
        foreach (var name in order)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var authority = options.Authorities[name];
            var issuerName = string.IsNullOrEmpty(authority.Issuer) ? name : authority.Issuer;
            recorded.TryGetValue(name, out var record);
            created[name] = record switch
            {
                { Status: AuthorityStatus.Active } => Adopt(name, record),
                not null => await ResumeAsync(name, record, issuerName, options, created, cancellationToken),
                null => await CreateAsync(name, issuerName, options, created, generated.GetValueOrDefault(name), cancellationToken),
            };
            result.Add(record is { Status: AuthorityStatus.Active } ? record : (await store.FindActiveAsync(name, cancellationToken))!);
        }

        return result;
    }

    /// <summary>
    /// The keys already in the HSM for authorities without a record: each must be the one this database recorded just
    /// before generating it (same CKA_ID, and the algorithm the configuration still asks for), left by a ceremony
    /// interrupted before it recorded the key's certificate. Any other key may be a live CA's: nothing certifies or
    /// replaces it, and the ceremony stops naming it.
    /// </summary>
    private async Task<Dictionary<string, IKeySigner>> GeneratedKeysAsync(CaOptions options, IEnumerable<string> unrecorded, CancellationToken cancellationToken)
    {
        var generated = new Dictionary<string, IKeySigner>(StringComparer.Ordinal);
        var refused = new List<string>();
        foreach (var name in unrecorded.Where(keys.KeyExists))
        {
            var generation = await store.FindKeyGenerationAsync(name, cancellationToken);
            var signer = keys.GetSigner(name);
            var configured = KeyAlgorithm.Parse(options.Authorities[name].KeyAlgorithm);
            if (generation is null || !string.Equals(generation.KeyId, signer.KeyId, StringComparison.OrdinalIgnoreCase))
            {
                refused.Add($"'{name}'");
            }
            else if (signer.Algorithm != configured)
            {
                refused.Add($"'{name}' (generated as {signer.Algorithm} by the interrupted ceremony; the configuration now asks for {configured})");
            }
            else
            {
                generated[name] = signer;
            }
        }

        if (refused.Count > 0)
        {
            throw new CaException(
                CaErrorKind.AlreadyExists,
                $"The HSM already holds key(s) {string.Join(", ", refused)} but the database records no certificate for them, nor their generation; " +
                "the database was lost or replaced, or the token belongs to another CA. Use an empty token (or remove those keys) and run init again.");
        }

        return generated;
    }

    /// <summary>An authority the interrupted ceremony finished: its recorded certificate and its key, checked to match.</summary>
    private (IKeySigner Signer, X509Certificate Certificate) Adopt(string name, AuthorityCertificate record)
    {
        var signer = ResumedSigner(name, record);
        var certificate = new X509CertificateParser().ReadCertificate(record.CertificateDer);
        if (!signer.PublicKeyInfo.Equals(certificate.SubjectPublicKeyInfo))
        {
            throw new CaException(CaErrorKind.InvalidState, $"The HSM key '{name}' does not match the public key of the recorded '{name}' certificate.");
        }

        return (signer, certificate);
    }

    /// <summary>
    /// An authority recorded (linted, perhaps signed) before the interruption and never activated: the same bytes are
    /// signed again with the same keys. A signature that may exist from before was never published.
    /// </summary>
    private async Task<(IKeySigner Signer, X509Certificate Certificate)> ResumeAsync(
        string name,
        AuthorityCertificate record,
        string issuerName,
        CaOptions options,
        Dictionary<string, (IKeySigner Signer, X509Certificate Certificate)> created,
        CancellationToken cancellationToken)
    {
        var signer = ResumedSigner(name, record);
        var tbs = TbsCertificateStructure.GetInstance(record.TbsDer);
        if (!signer.PublicKeyInfo.Equals(tbs.SubjectPublicKeyInfo) || record.IssuerName != issuerName)
        {
            throw new CaException(
                CaErrorKind.InvalidState,
                $"Authority '{name}' is recorded as pending with another key or issuer than the HSM and the configuration now have; it cannot be resumed.");
        }

        logger.LogWarning("Resuming an interrupted key ceremony: authority {Authority} (serial {Serial}) was recorded but never activated; signing its recorded certificate", name, record.SerialHex);
        var issuerSigner = issuerName == name ? signer : created[issuerName].Signer;
        var algorithm = SignatureAlgorithms.ForAuthority(options.Authorities[issuerName], issuerSigner.Algorithm);
        return (signer, await SignAndActivateAsync(name, tbs, record.TbsDer, issuerSigner, algorithm, cancellationToken));
    }

    /// <summary>
    /// A new authority: key generation recorded, key generated in the HSM (or the one an interrupted ceremony
    /// generated, <paramref name="generatedKey"/>), TBS built and linted, recorded, signed by its issuer, activated.
    /// </summary>
    private async Task<(IKeySigner Signer, X509Certificate Certificate)> CreateAsync(
        string name,
        string issuerName,
        CaOptions options,
        Dictionary<string, (IKeySigner Signer, X509Certificate Certificate)> created,
        IKeySigner? generatedKey,
        CancellationToken cancellationToken)
    {
        var authority = options.Authorities[name];
        var algorithm = KeyAlgorithm.Parse(authority.KeyAlgorithm);
        IKeySigner signer;
        if (generatedKey is not null)
        {
            logger.LogWarning(
                "Resuming an interrupted key ceremony: the {Algorithm} key of authority {Authority} (CKA_ID {KeyId}) was generated but its certificate never recorded; certifying it",
                algorithm, name, generatedKey.KeyId);
            signer = generatedKey;
        }
        else
        {
            // Recorded first, so that a ceremony interrupted from here on can tell this key from any other.
            var keyId = RandomNumberGenerator.GetBytes(16);
            await store.RecordKeyGenerationAsync(
                new KeyGeneration { Name = name, KeyAlgorithm = algorithm.Name, KeyId = Convert.ToHexStringLower(keyId), StartedAt = time.GetUtcNow() },
                cancellationToken);
            logger.LogInformation("Generating the {Algorithm} key of authority {Authority} in the HSM", algorithm, name);
            signer = keys.GenerateKey(name, algorithm, keyId);
        }

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
            PublicBaseUrl = options.PublicBaseUri,
            NameConstraints = AuthorityNameConstraints.Build(authority.NameConstraints),
            CertificatePolicies = CertificatePolicyStatements.Build(authority.CertificatePolicies),
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

        var certificate = await SignAndActivateAsync(name, tbs, tbsDer, issuerSigner, signatureAlgorithm, cancellationToken);
        logger.LogInformation("Authority {Authority} created: serial {Serial}, subject {Subject}", name, serial.ToString(16), authority.Subject);
        return (signer, certificate);
    }

    private static string Describe(IEnumerable<AuthorityCertificate> authorities) =>
        string.Join(", ", authorities.Select(a => $"{a.Name}: {a.Status.ToString().ToLowerInvariant()}"));

    /// <summary>The HSM key of an authority the database records, found by name.</summary>
    private IKeySigner ResumedSigner(string name, AuthorityCertificate record)
    {
        if (!keys.KeyExists(name))
        {
            throw new CaException(
                CaErrorKind.HsmKeyNotFound,
                $"Authority '{name}' is recorded ({record.Status.ToString().ToLowerInvariant()}, serial {record.SerialHex}) but its key is not in the HSM; the ceremony cannot be resumed on this token.");
        }

        return keys.GetSigner(name);
    }

    /// <summary>Signs the recorded bytes with the issuer's key, checks the signature and activates the authority.</summary>
    private async Task<X509Certificate> SignAndActivateAsync(
        string name, TbsCertificateStructure tbs, byte[] tbsDer, IKeySigner issuerSigner, SignatureAlgorithm algorithm, CancellationToken cancellationToken)
    {
        var signature = issuerSigner.Sign(algorithm, tbsDer);
        var certificate = AuthorityCertificateBuilder.Assemble(tbs, signature, issuerSigner.PublicKey);
        await store.ActivateAsync(name, certificate.GetEncoded(), cancellationToken);
        return certificate;
    }
}
