using MiniCa.Core.Errors;
using MiniCa.Core.Profiles;

namespace MiniCa.Core.Requests;

/// <summary>What a CSR asks for and every problem the profile finds with it, before anything is submitted.</summary>
/// <param name="Subject">The CSR's subject DN, or empty.</param>
/// <param name="Identifiers">The identifiers the certificate would carry (<c>dns:…</c>, <c>ip:…</c>, …).</param>
/// <param name="KeyDescription">E.g. <c>EC P-256</c>, <c>RSA 3072</c>.</param>
/// <param name="Problems">Every reason it would be rejected; empty when it would be accepted.</param>
/// <param name="ApprovalsNeeded">Distinct officers who must approve (0: issued at once).</param>
public sealed record RequestPreview(string Subject, IReadOnlyList<string> Identifiers, string KeyDescription, IReadOnlyList<string> Problems, int ApprovalsNeeded)
{
    /// <summary>Whether the request would be accepted.</summary>
    public bool IsAcceptable => Problems.Count == 0;

    /// <summary>
    /// Decodes <paramref name="csr"/> (PEM or DER) and checks it against the profile named <paramref name="profileName"/>,
    /// the lists of blocked keys and the issuing CA's nameConstraints (<paramref name="issuerNameConstraints"/>, the
    /// extension's DER value; <see langword="null"/> for none), as a submission is checked.
    /// </summary>
    public static RequestPreview Evaluate(ProfileCatalog profiles, BlockedKeyLists blockedKeys, string profileName, ReadOnlySpan<byte> csr, byte[]? issuerNameConstraints = null)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        var problems = new List<string>();
        CertificateProfile? profile = null;
        try
        {
            profile = profiles.Get(profileName);
        }
        catch (CaException ex) when (ex.Kind == CaErrorKind.NotFound)
        {
            problems.Add(ex.Message);
        }

        var parsed = CsrParser.Parse(csr, blockedKeys);
        problems.AddRange(parsed.Problems);
        IReadOnlyList<string> identifiers = parsed.Csr?.Identifiers.Select(i => i.ToString()).ToList() ?? [];
        if (profile is not null && parsed.Csr is not null && parsed.Problems.Count == 0)
        {
            var decision = ProfilePolicy.Evaluate(profile, parsed.Csr);
            problems.AddRange(decision.Problems);
            identifiers = decision.Identifiers.Select(i => i.ToString()).ToList();
            if (decision.Problems.Count == 0 && issuerNameConstraints is not null)
            {
                // As IssuanceService refuses them on submission (RFC 5280 §4.2.1.10), in the same words.
                problems.AddRange(decision.Identifiers
                    .Select(i => MiniCa.Core.Authorities.AuthorityNameConstraints.Violation(issuerNameConstraints, MiniCa.Core.Issuance.LeafCertificateBuilder.ToGeneralName(i)))
                    .OfType<string>());
            }
        }

        return new RequestPreview(parsed.Csr?.SubjectText ?? string.Empty, identifiers, parsed.Csr?.KeyDescription ?? string.Empty, problems,
            profile?.Approval.IsManual == true ? profile.Approval.Approvers : 0);
    }
}
