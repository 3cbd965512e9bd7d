using System.Security.Cryptography;
using MiniCa.Core.Authorities;
using MiniCa.Core.Configuration;
using MiniCa.Core.Ledger;
using MiniCa.Hsm;

namespace MiniCa.Web.Portal;

/// <summary>An authority as the portal shows it.</summary>
internal sealed record AuthorityView(string Name, string Subject, string SerialHex, DateTimeOffset NotBefore, DateTimeOffset NotAfter,
    string Sha256Fingerprint, string Sha1Fingerprint, string CertificateUrl, string CrlUrl, long? CrlNumber, DateTimeOffset? CrlNextUpdate, int? CrlEntries,
    IReadOnlyList<string> NameConstraints, IReadOnlyList<string> CertificatePolicies);

/// <summary>The HSM as the dashboard shows it.</summary>
internal sealed record HsmView(bool Healthy, string Member, string Token, int OpenSessions, long Operations, long Failures, long Failovers, long Readmissions, string? Problem);

/// <summary>The CA's public face: its certificates, where CRLs, OCSP and ACME live, and the HSM's state.</summary>
internal sealed class AuthorityOverview(IAuthorityReader authorities, IRevocationLedger crls, HsmCluster hsm, CaOptions options)
{
    public Uri BaseUri => options.PublicBaseUri;

    public string OcspUrl => new Uri(BaseUri, "ocsp").ToString();

    public string AcmeDirectoryUrl => new Uri(BaseUri, "acme/directory").ToString();

    public async Task<IReadOnlyList<AuthorityView>> ListAsync(CancellationToken cancellationToken = default)
    {
        var views = new List<AuthorityView>();
        foreach (var authority in (await authorities.ListAsync(cancellationToken)).Where(a => a.Status == AuthorityStatus.Active && a.CertificateDer is not null)
                     .OrderBy(a => a.IssuerName == a.Name ? 0 : 1))
        {
            var crl = await crls.FindCrlSummaryAsync(authority.Name, cancellationToken);
            var der = authority.CertificateDer!;
            // What the CA may certify and which policies it conveys, as its certificate says (the ceremony wrote them).
            var extensions = CertificateDecoder.Decode(der).Extensions;
            IReadOnlyList<string> Values(string name) => extensions.FirstOrDefault(e => e.Name == name)?.Values ?? [];
            views.Add(new AuthorityView(authority.Name, authority.Subject, authority.SerialHex, authority.NotBefore, authority.NotAfter,
                Fingerprint(SHA256.HashData(der)), Sha1Fingerprint(der),
                new Uri(BaseUri, $"ca/{authority.Name}.crt").ToString(), new Uri(BaseUri, $"crl/{authority.Name}.crl").ToString(),
                crl?.Number, crl?.NextUpdate, crl?.Entries, Values("Name Constraints"), Values("Certificate Policies")));
        }

        return views;
    }

    public IReadOnlyList<HsmView> Hsm() => hsm.GetStatus()
        .Select(m => new HsmView(m.State == HsmMemberState.Up, m.Name, $"{m.TokenLabel} ({m.TokenSerial})", m.OpenSessions, m.Operations, m.Failures, m.Failovers, m.Readmissions,
            m.State == HsmMemberState.Up ? (m.AbsentKeys.Count > 0 ? "lacks keys: " + string.Join(", ", m.AbsentKeys) : null) : $"down since {m.StateSince:yyyy-MM-dd HH:mm:ss} UTC: {m.LastError}"))
        .ToList();

    // SHA-1 fingerprints are shown because Windows' certificate dialogs still show them ("Thumbprint");
    // it identifies, it does not protect anything.
#pragma warning disable CA5350
    private static string Sha1Fingerprint(byte[] der) => Fingerprint(SHA1.HashData(der));
#pragma warning restore CA5350

    private static string Fingerprint(byte[] hash) => string.Join(':', hash.Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
}
