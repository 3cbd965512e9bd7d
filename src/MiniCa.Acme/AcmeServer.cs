using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using MiniCa.Acme.Jws;
using MiniCa.Acme.Validation;
using MiniCa.Acme.Wire;
using MiniCa.Authority.Issuance;
using MiniCa.Authority.Revocation;
using MiniCa.Core.Acme;
using MiniCa.Core.Authorities;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Core.Identifiers;
using MiniCa.Core.Issuance;
using MiniCa.Core.Ledger;
using MiniCa.Core.Profiles;
using MiniCa.Core.Requests;
using MiniCa.Core.Revocation;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Acme;

/// <summary>What a resource answers: status, JSON body (or PEM text), and the headers that go with it.</summary>
internal sealed record AcmeResponse(int Status, object? Body, string? Location = null, string? ContentType = null, string? Up = null, int? RetryAfter = null);

/// <summary>
/// The ACME resources of RFC 8555 §7 over MiniCa's one issuance pipeline: accounts (with External Account Binding
/// and key rollover), orders under ACME-enabled profiles, authorizations and challenges, finalize, certificate
/// download, revocation, and renewal information (RFC 9773). The caller has already verified the JWS and the nonce.
/// </summary>
internal sealed class AcmeServer(
    IAcmeStore store,
    AcmeUrls urls,
    ChallengeValidator validator,
    IssuanceService issuance,
    RevocationService revocation,
    IIssuanceReader certificates,
    IAuthorityReader authorities,
    ProfileCatalog profiles,
    BlockedKeyLists blockedKeys,
    CaOptions options,
    TimeProvider time,
    ILogger<AcmeServer> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
    private readonly AcmeOptions _acme = options.Acme;

    public DirectoryResource Directory() => new(urls.NewNonce, urls.NewAccount, urls.NewOrder, urls.RevokeCert, urls.KeyChange, urls.RenewalInfo,
        new DirectoryMeta(_acme.TermsOfService, _acme.Website, _acme.CaaIdentities, _acme.ExternalAccountRequired,
            AcmeProfiles().ToDictionary(p => p.Name, p => p.Description)));

    /// <summary>RFC 8555 §7.3 newAccount (JWS with <c>jwk</c>).</summary>
    public async Task<AcmeResponse> NewAccountAsync(JwsMessage jws, AccountKey key, CancellationToken cancellationToken)
    {
        var payload = jws.PayloadAs<NewAccountPayload>();
        var existing = await store.FindAccountByThumbprintAsync(key.Thumbprint, cancellationToken);
        if (existing is not null)
        {
            // RFC 8555 §7.3.1: the existing account, 200, its URL in Location.
            return new AcmeResponse(200, AccountView(existing), urls.Account(existing.Id));
        }

        if (payload.OnlyReturnExisting == true)
        {
            throw new AcmeException("accountDoesNotExist", "No account exists with this key.");
        }

        if (!string.IsNullOrEmpty(_acme.TermsOfService) && payload.TermsOfServiceAgreed != true)
        {
            throw new AcmeException("userActionRequired", $"Agree to the terms of service ({_acme.TermsOfService}) with termsOfServiceAgreed: true.", 403);
        }

        var contacts = CheckContacts(payload.Contact);
        string? eabKeyId = null;
        if (payload.ExternalAccountBinding is { ValueKind: JsonValueKind.Object } binding)
        {
            eabKeyId = await VerifyExternalAccountBindingAsync(binding, key, cancellationToken);
        }
        else if (_acme.ExternalAccountRequired)
        {
            throw new AcmeException("externalAccountRequired", "This CA binds ACME accounts to portal users: ask an officer for an External Account Binding key.", 403);
        }

        try
        {
            var account = await store.CreateAccountAsync(key.Thumbprint, key.Canonical, contacts, eabKeyId, time.GetUtcNow(), cancellationToken);
            logger.LogInformation("ACME account {Account} created{Binding}", account.Id, account.PortalUser is null ? string.Empty : " for " + account.PortalUser);
            return new AcmeResponse(201, AccountView(account), urls.Account(account.Id));
        }
        catch (CaException ex) when (ex.Kind == CaErrorKind.Forbidden)
        {
            throw new AcmeException("unauthorized", ex.Message, 403);
        }
    }

    /// <summary>RFC 8555 §7.3.2 update, §7.3.6 deactivation, or POST-as-GET of the account.</summary>
    public async Task<AcmeResponse> AccountAsync(JwsMessage jws, AcmeAccount account, long id, CancellationToken cancellationToken)
    {
        if (account.Id != id)
        {
            throw new AcmeException("unauthorized", "An account can read and change only itself.", 403);
        }

        if (jws.IsPostAsGet)
        {
            return new AcmeResponse(200, AccountView(account), urls.Account(id));
        }

        var payload = jws.PayloadAs<AccountUpdatePayload>();
        AcmeAccountStatus? status = null;
        if (payload.Status is { } requested)
        {
            status = requested == "deactivated" ? AcmeAccountStatus.Deactivated : throw new AcmeException("malformed", "An account's status can only be set to \"deactivated\".");
        }

        var updated = await store.UpdateAccountAsync(id, payload.Contact is null ? null : CheckContacts(payload.Contact), status, cancellationToken);
        return new AcmeResponse(200, AccountView(updated), urls.Account(id));
    }

    /// <summary>RFC 8555 §7.1.2.1: the account's orders (the newest 1,000), POST-as-GET.</summary>
    public async Task<AcmeResponse> OrdersAsync(AcmeAccount account, long id, CancellationToken cancellationToken)
    {
        if (account.Id != id)
        {
            throw new AcmeException("unauthorized", "An account can list only its own orders.", 403);
        }

        var orders = await store.ListAccountOrdersAsync(id, 1000, cancellationToken);
        return new AcmeResponse(200, new Wire.OrdersListResource(orders.Select(urls.Order).ToList()));
    }

    /// <summary>RFC 8555 §7.3.5 key rollover: the payload is a JWS signed by the new key.</summary>
    public async Task<AcmeResponse> KeyChangeAsync(JwsMessage outer, AcmeAccount account, CancellationToken cancellationToken)
    {
        JsonElement innerJson;
        try
        {
            using var document = JsonDocument.Parse(outer.Payload);
            innerJson = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new AcmeException("malformed", "The keyChange payload is not a JWS.");
        }

        var inner = JwsMessage.Parse(innerJson);
        inner.CheckAlgorithm();
        if (inner.Jwk is not { } newJwk || inner.Kid is not null)
        {
            throw new AcmeException("malformed", "The inner JWS must carry the new key as 'jwk' (RFC 8555 §7.3.5).");
        }

        if (inner.Url != outer.Url)
        {
            throw new AcmeException("malformed", "The inner JWS 'url' must equal the outer one.");
        }

        var newKey = AccountKey.Parse(newJwk);
        inner.VerifyWith(newKey);
        var payload = inner.PayloadAs<KeyChangePayload>();
        if (payload.Account != urls.Account(account.Id))
        {
            throw new AcmeException("malformed", "The inner payload's 'account' is not the signing account.");
        }

        if (payload.OldKey is not { } oldJwk || AccountKey.Parse(oldJwk).Thumbprint != account.Thumbprint)
        {
            throw new AcmeException("malformed", "The inner payload's 'oldKey' is not the account's current key.");
        }

        try
        {
            var changed = await store.ChangeKeyAsync(account.Id, newKey.Thumbprint, newKey.Canonical, cancellationToken);
            return new AcmeResponse(200, AccountView(changed), urls.Account(account.Id));
        }
        catch (CaException ex) when (ex.Kind == CaErrorKind.AlreadyExists)
        {
            var other = await store.FindAccountByThumbprintAsync(newKey.Thumbprint, cancellationToken);
            throw new AcmeException("conflict", "Another account already uses the new key.", 409) { Data = { ["Location"] = other is null ? null : urls.Account(other.Id) } };
        }
    }

    /// <summary>RFC 8555 §7.4 newOrder, under the requested (or default) ACME profile.</summary>
    public async Task<AcmeResponse> NewOrderAsync(JwsMessage jws, AcmeAccount account, CancellationToken cancellationToken)
    {
        var payload = jws.PayloadAs<NewOrderPayload>();
        if (payload.Identifiers is not { Count: > 0 } requested)
        {
            throw new AcmeException("malformed", "An order names at least one identifier.");
        }

        if (payload.NotBefore is not null || payload.NotAfter is not null)
        {
            throw new AcmeException("malformed", "notBefore and notAfter are not supported: the profile sets the validity.");
        }

        var profile = ResolveProfile(payload.Profile);
        var now = time.GetUtcNow();
        if (await store.CountOrdersSinceAsync(account.Id, now.AddHours(-1), cancellationToken) >= _acme.OrdersPerHour)
        {
            throw new AcmeException("rateLimited", $"At most {_acme.OrdersPerHour} new orders per account per hour.", 429) { Data = { ["Retry-After"] = "3600" } };
        }

        var identifiers = new List<AcmeIdentifier>();
        var subproblems = new List<AcmeSubproblem>();
        foreach (var identifier in requested)
        {
            var (normalized, problem) = NormalizeIdentifier(identifier);
            if (problem is not null)
            {
                subproblems.Add(new AcmeSubproblem(problem.Value.Type, problem.Value.Detail, identifier.Type ?? string.Empty, identifier.Value ?? string.Empty));
                continue;
            }

            if (!identifiers.Contains(normalized!))
            {
                identifiers.Add(normalized!);
            }
        }

        if (identifiers.Count > profile.Identifiers.MaxCount)
        {
            throw new AcmeException("rejectedIdentifier", $"Profile '{profile.Name}' certifies at most {profile.Identifiers.MaxCount} identifiers.");
        }

        var core = identifiers.Select(ToCoreIdentifier).ToList();
        var checks = ProfilePolicy.CheckIdentifiers(profile, core);
        // Before any challenge: a name the issuing CA's certificate may not certify (its nameConstraints) is refused now.
        var outside = await issuance.NameConstraintViolationsAsync(core, cancellationToken);
        for (var i = 0; i < identifiers.Count; i++)
        {
            var refused = checks[i].Count > 0 ? string.Join("; ", checks[i]) : outside[i];
            if (refused is not null)
            {
                subproblems.Add(new AcmeSubproblem("rejectedIdentifier", refused, identifiers[i].Type, identifiers[i].Value));
            }
        }

        if (subproblems.Count > 0)
        {
            throw new AcmeException(subproblems.Count == 1 ? subproblems[0].Type : "rejectedIdentifier",
                subproblems.Count == 1 ? subproblems[0].Detail : $"{subproblems.Count} identifiers were refused.", 400, subproblems);
        }

        var draft = new AcmeOrderDraft
        {
            AccountId = account.Id,
            Identifiers = identifiers,
            Profile = profile.Name,
            Expires = now.AddHours(_acme.OrderLifetimeHours),
            Replaces = payload.Replaces,
            Challenges = identifiers.Select(ChallengesFor).ToList(),
        };
        var order = await store.CreateOrderAsync(draft, now, cancellationToken);
        return new AcmeResponse(201, OrderView(order), urls.Order(order.Id));
    }

    public async Task<AcmeResponse> OrderAsync(AcmeAccount account, long id, CancellationToken cancellationToken)
    {
        var order = await OwnOrderAsync(account, id, cancellationToken);
        return new AcmeResponse(200, OrderView(order), urls.Order(id), RetryAfter: order.Status == AcmeOrderStatus.Processing ? 1 : null);
    }

    public async Task<AcmeResponse> AuthorizationAsync(JwsMessage jws, AcmeAccount account, long id, CancellationToken cancellationToken)
    {
        var authorization = await store.FindAuthorizationAsync(id, time.GetUtcNow(), cancellationToken);
        if (authorization is null || authorization.AccountId != account.Id)
        {
            throw new AcmeException("malformed", $"No authorization {id} for this account.", 404);
        }

        if (!jws.IsPostAsGet)
        {
            var payload = jws.PayloadAs<AuthorizationUpdatePayload>();
            if (payload.Status != "deactivated")
            {
                throw new AcmeException("malformed", "An authorization's status can only be set to \"deactivated\".");
            }

            try
            {
                authorization = await store.DeactivateAuthorizationAsync(id, time.GetUtcNow(), cancellationToken);
            }
            catch (CaException ex) when (ex.Kind == CaErrorKind.InvalidState)
            {
                throw new AcmeException("malformed", ex.Message, 400, null, ex);
            }
        }

        return new AcmeResponse(200, AuthorizationView(authorization), RetryAfter: authorization.Challenges.Any(c => c.Status == AcmeChallengeStatus.Processing) ? 1 : null);
    }

    /// <summary>RFC 8555 §7.5.1: a POST with <c>{}</c> asks for validation; POST-as-GET reads the challenge.</summary>
    public async Task<AcmeResponse> ChallengeAsync(JwsMessage jws, AcmeAccount account, long id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var authorization = await store.FindChallengeAsync(id, now, cancellationToken);
        if (authorization is null || authorization.AccountId != account.Id)
        {
            throw new AcmeException("malformed", $"No challenge {id} for this account.", 404);
        }

        var challenge = authorization.Challenges.Single(c => c.Id == id);
        if (!jws.IsPostAsGet)
        {
            if (authorization.Status == AcmeAuthorizationStatus.Expired)
            {
                throw new AcmeException("malformed", "The authorization has expired.");
            }

            if (await store.BeginChallengeAsync(id, now, cancellationToken))
            {
                challenge = challenge with { Status = AcmeChallengeStatus.Processing };
                // Validate now, off the request: the client polls, told to come back in a second.
                _ = Task.Run(() => ValidateAsync(authorization, challenge, account.Thumbprint), CancellationToken.None);
            }
        }

        return new AcmeResponse(200, ChallengeView(challenge), Up: urls.Authorization(authorization.Id),
            RetryAfter: challenge.Status is AcmeChallengeStatus.Pending or AcmeChallengeStatus.Processing ? 1 : null);
    }

    /// <summary>RFC 8555 §7.4 finalize: the CSR must name exactly the order's identifiers.</summary>
    public async Task<AcmeResponse> FinalizeAsync(JwsMessage jws, AcmeAccount account, long id, CancellationToken cancellationToken)
    {
        var order = await OwnOrderAsync(account, id, cancellationToken);
        if (!AcmeTransitions.CanFinalize(order.Status))
        {
            throw new AcmeException("orderNotReady", $"The order is {order.Status.ToString().ToLowerInvariant()}, not ready.", 403);
        }

        var payload = jws.PayloadAs<FinalizePayload>();
        var der = Base64Url.Decode(payload.Csr, "The csr");
        var parsed = CsrParser.Parse(der, blockedKeys);
        if (parsed.Csr is null || parsed.Problems.Count > 0)
        {
            throw new AcmeException("badCSR", "The CSR is not acceptable: " + string.Join("; ", parsed.Problems));
        }

        using (var accountJwk = JsonDocument.Parse(account.Jwk))
        {
            // The account key signs this account's requests (and may revoke); as Let's Encrypt and Pebble do, it is
            // never also a certificate's key.
            if (AccountKey.Parse(accountJwk.RootElement).SubjectPublicKeyInfo().AsSpan().SequenceEqual(parsed.Csr.PublicKey.GetDerEncoded()))
            {
                throw new AcmeException("badCSR", "The CSR's public key is this account's key; a certificate needs a key of its own.");
            }
        }

        var wanted = order.Identifiers.Select(i => ToCoreIdentifier(i).ToString()).ToHashSet(StringComparer.Ordinal);
        var named = parsed.Csr.Identifiers.Select(i => i.ToString()).ToHashSet(StringComparer.Ordinal);
        if (parsed.Csr.CommonName is { Length: > 0 } cn && !named.Contains("dns:" + cn.ToLowerInvariant()) && !named.Contains("ip:" + cn))
        {
            named.Add(cn.Contains(':', StringComparison.Ordinal) || System.Net.IPAddress.TryParse(cn, out _) ? "ip:" + cn : "dns:" + cn.ToLowerInvariant());
        }

        if (!wanted.SetEquals(named))
        {
            throw new AcmeException("badCSR", $"The CSR names {string.Join(", ", named.Order())}; the order is for exactly {string.Join(", ", wanted.Order())}.");
        }

        if (!await store.BeginFinalizeAsync(id, cancellationToken))
        {
            throw new AcmeException("orderNotReady", "The order is already being finalized.", 403);
        }

        IssuanceOutcome outcome;
        try
        {
            outcome = await issuance.SubmitAsync(new IssuanceSubmission { Csr = der, Profile = order.Profile, Requester = Requester(account), Source = "acme" }, cancellationToken);
        }
        catch (CaException ex)
        {
            logger.LogWarning("ACME order {Order}: issuance failed: {Reason}", id, ex.Message);
            await store.CompleteOrderAsync(id, null, null, "serverInternal", "Issuance failed; the CA's operators have the details.", CancellationToken.None);
            throw new AcmeException("serverInternal", "Issuance failed; the CA's operators have the details.", 500, null, ex);
        }

        if (outcome.Status == RequestStatus.Issued)
        {
            await store.CompleteOrderAsync(id, outcome.SerialHex, outcome.RequestId, null, null, cancellationToken);
        }
        else
        {
            var detail = outcome.Status == RequestStatus.Pending ? "The profile needs officer approval, which ACME cannot wait for." : string.Join("; ", outcome.Problems);
            await store.CompleteOrderAsync(id, null, outcome.RequestId, "badCSR", detail, cancellationToken);
            throw new AcmeException("badCSR", detail);
        }

        var done = await store.FindOrderAsync(id, time.GetUtcNow(), cancellationToken);
        return new AcmeResponse(200, OrderView(done!), urls.Order(id));
    }

    /// <summary>RFC 8555 §7.4.2: the chain to the root as PEM.</summary>
    public async Task<AcmeResponse> CertificateAsync(AcmeAccount account, string serial, CancellationToken cancellationToken)
    {
        var order = await store.FindOrderByCertificateAsync(serial, cancellationToken);
        var certificate = order is null ? null : await certificates.FindCertificateAsync(serial, cancellationToken);
        if (order is null || order.AccountId != account.Id || certificate?.Der is not { } der)
        {
            throw new AcmeException("malformed", $"No certificate {serial} for this account.", 404);
        }

        var chain = await AuthorityChain.BuildAsync(authorities, der, certificate.IssuerName, cancellationToken: cancellationToken);
        return new AcmeResponse(200, CertificateFormats.ToPemChain(chain), ContentType: "application/pem-certificate-chain");
    }

    /// <summary>
    /// RFC 8555 §7.6: by the account that ordered the certificate (<c>kid</c>), or signed by the certificate's own
    /// key (<c>jwk</c>).
    /// </summary>
    public async Task<AcmeResponse> RevokeAsync(JwsMessage jws, AcmeAccount? account, AccountKey? certificateKey, CancellationToken cancellationToken)
    {
        var payload = jws.PayloadAs<RevocationPayload>();
        var der = Base64Url.Decode(payload.Certificate, "The certificate");
        X509CertificateStructure structure;
        try
        {
            structure = X509CertificateStructure.GetInstance(Asn1Object.FromByteArray(der));
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or InvalidCastException)
        {
            throw new AcmeException("malformed", "The certificate is not DER.", 400, null, ex);
        }

        var serial = structure.SerialNumber.Value.ToString(16);
        var stored = await certificates.FindCertificateAsync(serial, cancellationToken);
        if (stored?.Der is null || !stored.Der.AsSpan().SequenceEqual(der))
        {
            throw new AcmeException("malformed", "This CA did not issue that certificate.", 404);
        }

        if (account is not null)
        {
            var order = await store.FindOrderByCertificateAsync(serial, cancellationToken);
            if (order?.AccountId != account.Id)
            {
                throw new AcmeException("unauthorized", "This account did not order that certificate.", 403);
            }
        }
        else if (certificateKey is null || !certificateKey.SubjectPublicKeyInfo().AsSpan().SequenceEqual(structure.SubjectPublicKeyInfo.GetDerEncoded()))
        {
            throw new AcmeException("unauthorized", "The request is signed neither by the ordering account nor by the certificate's key.", 403);
        }

        if (stored.Status == CertificateStatus.Revoked)
        {
            throw new AcmeException("alreadyRevoked", "The certificate is already revoked.");
        }

        var reason = payload.Reason ?? 0;
        if (!Enum.IsDefined((RevocationReason)reason) || reason is 2 or 6)
        {
            throw new AcmeException("badRevocationReason", $"Reason code {reason} is not accepted; use 0, 1, 3, 4, 5 or 9 (RFC 5280 §5.3.1).");
        }

        try
        {
            await revocation.RevokeAsync(serial, RevocationReasons.Name((RevocationReason)reason), null,
                account is null ? "acme:certificate-key" : Requester(account), cancellationToken);
        }
        catch (CaException ex) when (ex.Kind is CaErrorKind.InvalidState or CaErrorKind.AlreadyExists)
        {
            throw new AcmeException("alreadyRevoked", "The certificate is already revoked.", 400, null, ex);
        }

        return new AcmeResponse(200, null);
    }

    /// <summary>
    /// RFC 9773 §4: renewal information for <c>base64url(AKI keyIdentifier) "." base64url(serial)</c>. The window is
    /// the middle of the last third of the lifetime; for a revoked certificate it is now.
    /// </summary>
    public async Task<RenewalInfoResource> RenewalInfoAsync(string certificateId, CancellationToken cancellationToken)
    {
        var parts = certificateId.Split('.');
        if (parts.Length != 2)
        {
            throw new AcmeException("malformed", "A renewalInfo identifier is base64url(AKI keyIdentifier) \".\" base64url(serial) (RFC 9773 §4.1).");
        }

        Base64Url.Decode(parts[0], "The key identifier");
        var serialBytes = Base64Url.Decode(parts[1], "The serial number");
        var serial = new Org.BouncyCastle.Math.BigInteger(1, serialBytes).ToString(16);
        var certificate = await certificates.FindCertificateAsync(serial, cancellationToken);
        if (certificate?.Der is null)
        {
            throw new AcmeException("malformed", "This CA issued no such certificate.", 404);
        }

        var now = time.GetUtcNow();
        if (certificate.Status == CertificateStatus.Revoked)
        {
            return new SuggestedWindowFor(now.AddMinutes(-5), now).Resource;
        }

        var lifetime = certificate.NotAfter - certificate.NotBefore;
        var start = certificate.NotBefore + lifetime * 2 / 3;
        return new SuggestedWindowFor(start, start + lifetime / 9).Resource;
    }

    private sealed record SuggestedWindowFor(DateTimeOffset Start, DateTimeOffset End)
    {
        public RenewalInfoResource Resource => new(new SuggestedWindow(Start, End), null);
    }

    /// <summary>
    /// Validates again every challenge a restart left in processing, so that no order hangs: the client is still
    /// polling, and validation is idempotent.
    /// </summary>
    public async Task<int> ResumeAsync(CancellationToken cancellationToken)
    {
        var resumed = 0;
        foreach (var authorization in await store.ListProcessingAsync(time.GetUtcNow(), cancellationToken))
        {
            var account = await store.FindAccountAsync(authorization.AccountId, cancellationToken);
            foreach (var challenge in authorization.Challenges.Where(c => c.Status == AcmeChallengeStatus.Processing))
            {
                if (account is null || authorization.Status != AcmeAuthorizationStatus.Pending)
                {
                    await store.CompleteChallengeAsync(challenge.Id, false, "malformed", "The authorization ended before validation.", time.GetUtcNow(), cancellationToken);
                    continue;
                }

                await ValidateAsync(authorization, challenge, account.Thumbprint);
                resumed++;
            }
        }

        return resumed;
    }

    private async Task ValidateAsync(AcmeAuthorization authorization, AcmeChallenge challenge, string thumbprint)
    {
        try
        {
            var problem = await validator.ValidateAsync(authorization, challenge, thumbprint, CancellationToken.None);
            await store.CompleteChallengeAsync(challenge.Id, problem is null, problem?.Type, problem?.Detail, time.GetUtcNow(), CancellationToken.None);
            logger.LogInformation("ACME challenge {Challenge} ({Type} for {Identifier}): {Outcome}", challenge.Id, challenge.Type, authorization.Identifier, problem is null ? "valid" : problem.Value.Detail);
        }
        catch (Exception ex)
        {
            // A background task must not die silently: the challenge ends invalid and the log says why.
            logger.LogError(ex, "ACME challenge {Challenge} could not be validated", challenge.Id);
            try
            {
                await store.CompleteChallengeAsync(challenge.Id, false, "serverInternal", "Validation could not be completed.", time.GetUtcNow(), CancellationToken.None);
            }
            catch (CaException)
            {
                // Already completed by someone else.
            }
        }
    }

    private async Task<AcmeOrder> OwnOrderAsync(AcmeAccount account, long id, CancellationToken cancellationToken)
    {
        var order = await store.FindOrderAsync(id, time.GetUtcNow(), cancellationToken);
        return order is not null && order.AccountId == account.Id ? order : throw new AcmeException("malformed", $"No order {id} for this account.", 404);
    }

    private async Task<string> VerifyExternalAccountBindingAsync(JsonElement binding, AccountKey accountKey, CancellationToken cancellationToken)
    {
        var inner = JwsMessage.Parse(binding);
        if (inner.Algorithm is not ("HS256" or "HS384" or "HS512"))
        {
            throw new AcmeException("badSignatureAlgorithm", "The externalAccountBinding must be MACed with HS256, HS384 or HS512 (RFC 8555 §7.3.4).");
        }

        if (inner.Kid is not { Length: > 0 } keyId || inner.Jwk is not null || inner.Nonce is not null)
        {
            throw new AcmeException("malformed", "The externalAccountBinding header has 'kid' and no 'jwk' or 'nonce'.");
        }

        if (inner.Url != urls.NewAccount)
        {
            throw new AcmeException("malformed", "The externalAccountBinding 'url' must be the newAccount URL.");
        }

        using (var payload = JsonDocument.Parse(inner.Payload))
        {
            if (AccountKey.Parse(payload.RootElement).Thumbprint != accountKey.Thumbprint)
            {
                throw new AcmeException("malformed", "The externalAccountBinding payload is not the account key.");
            }
        }

        var key = await store.FindEabKeyAsync(keyId, cancellationToken) ?? throw new AcmeException("unauthorized", "The external account key is unknown.", 403);
        if (key.AccountId is not null)
        {
            throw new AcmeException("unauthorized", "The external account key has already been used.", 403);
        }

        var mac = inner.Algorithm switch
        {
            "HS256" => HMACSHA256.HashData(key.HmacKey, inner.SigningInput),
            "HS384" => HMACSHA384.HashData(key.HmacKey, inner.SigningInput),
            _ => HMACSHA512.HashData(key.HmacKey, inner.SigningInput),
        };
        if (!CryptographicOperations.FixedTimeEquals(mac, inner.Signature))
        {
            throw new AcmeException("unauthorized", "The externalAccountBinding MAC does not verify.", 403);
        }

        return keyId;
    }

    private CertificateProfile ResolveProfile(string? name)
    {
        var wanted = string.IsNullOrWhiteSpace(name) ? _acme.DefaultProfile : name;
        var profile = AcmeProfiles().FirstOrDefault(p => p.Name == wanted);
        return profile ?? throw new AcmeException("invalidProfile", $"Profile '{wanted}' does not exist or is not offered over ACME; offered: {string.Join(", ", AcmeProfiles().Select(p => p.Name))}.");
    }

    /// <summary>Profiles with <c>"acme": true</c> that issue at once (ACME cannot wait for officers).</summary>
    private IEnumerable<CertificateProfile> AcmeProfiles() =>
        profiles.All.Where(p => p.Acme && !p.Approval.IsManual).OrderBy(p => p.Name, StringComparer.Ordinal);

    private static (AcmeIdentifier? Identifier, (string Type, string Detail)? Problem) NormalizeIdentifier(IdentifierResource identifier)
    {
        var value = identifier.Value?.Trim() ?? string.Empty;
        switch (identifier.Type)
        {
            case "dns":
                var lower = value.ToLowerInvariant();
                var problems = DnsNames.Validate(lower, allowWildcard: true);
                return problems.Count == 0 ? (new AcmeIdentifier("dns", lower), null) : (null, ("rejectedIdentifier", $"{value}: {string.Join("; ", problems)}"));
            case "ip":
                return System.Net.IPAddress.TryParse(value, out var address) && !value.Contains('%', StringComparison.Ordinal)
                    ? (new AcmeIdentifier("ip", address.ToString()), null)
                    : (null, ("malformed", $"'{value}' is not an IP address."));
            default:
                return (null, ("unsupportedIdentifier", $"Identifier type '{identifier.Type}' is not supported (dns, ip)."));
        }
    }

    private static Identifier ToCoreIdentifier(AcmeIdentifier identifier) =>
        new(identifier.Type == "ip" ? IdentifierType.Ip : IdentifierType.Dns, identifier.Value);

    /// <summary>Wildcards only by dns-01 (RFC 8555 §7.1.3); IP addresses never by dns-01 (RFC 8738 §7).</summary>
    private static IReadOnlyList<(string Type, string Token)> ChallengesFor(AcmeIdentifier identifier)
    {
        string[] types = identifier.Type == "ip" ? ["http-01", "tls-alpn-01"]
            : identifier.Value.StartsWith("*.", StringComparison.Ordinal) ? ["dns-01"]
            : ["http-01", "dns-01", "tls-alpn-01"];
        return types.Select(t => (t, Base64Url.Encode(RandomNumberGenerator.GetBytes(16)))).ToList();
    }

    private static List<string> CheckContacts(IReadOnlyList<string>? contacts)
    {
        var list = contacts?.ToList() ?? [];
        if (list.Count > 10)
        {
            throw new AcmeException("malformed", "At most 10 contacts.");
        }

        foreach (var contact in list)
        {
            if (!contact.StartsWith("mailto:", StringComparison.Ordinal))
            {
                throw new AcmeException("unsupportedContact", $"Only mailto: contacts are supported, not '{contact}'.");
            }

            var address = contact["mailto:".Length..];
            if (address.Length is 0 or > 254 || address.Count(c => c == '@') != 1 || address.Contains(',', StringComparison.Ordinal)
                || address.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) || address.Contains('?', StringComparison.Ordinal))
            {
                throw new AcmeException("invalidContact", $"'{contact}' is not a single email address.");
            }
        }

        return list;
    }

    private static string Requester(AcmeAccount account) => account.PortalUser ?? $"acme:{account.Id}";

    private AccountResource AccountView(AcmeAccount account) =>
        new(account.Status.ToString().ToLowerInvariant(), account.Contacts, urls.Orders(account.Id), account.CreatedAt);

    private OrderResource OrderView(AcmeOrder order) => new(
        order.Status.ToString().ToLowerInvariant(),
        order.Expires,
        order.Identifiers.Select(i => new IdentifierResource(i.Type, i.Value)).ToList(),
        order.NotBefore,
        order.NotAfter,
        order.ErrorType is null ? null : Problem(order.ErrorType, order.ErrorDetail),
        order.AuthorizationIds.Select(urls.Authorization).ToList(),
        urls.Finalize(order.Id),
        order.CertificateSerial is null ? null : urls.Certificate(order.CertificateSerial),
        order.Profile,
        order.Replaces);

    private AuthorizationResource AuthorizationView(AcmeAuthorization authorization) => new(
        new IdentifierResource(authorization.Identifier.Type, authorization.Identifier.Value),
        authorization.Status.ToString().ToLowerInvariant(),
        authorization.Expires,
        authorization.Challenges.Select(ChallengeView).ToList(),
        authorization.Wildcard ? true : null);

    private ChallengeResource ChallengeView(AcmeChallenge challenge) => new(
        challenge.Type, urls.Challenge(challenge.Id), challenge.Status.ToString().ToLowerInvariant(), challenge.Token, challenge.ValidatedAt,
        challenge.ErrorType is null ? null : Problem(challenge.ErrorType, challenge.ErrorDetail));

    internal static ProblemResource Problem(string type, string? detail) => new("urn:ietf:params:acme:error:" + type, detail ?? string.Empty, null, null);

    internal static string Serialize(object value) => JsonSerializer.Serialize(value, value.GetType(), Json);
}
