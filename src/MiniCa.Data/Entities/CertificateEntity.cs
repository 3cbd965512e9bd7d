using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;

namespace MiniCa.Data.Entities;

/// <summary>
/// A certificate row, written with its linted TBS bytes before the HSM signs (status <see cref="CertificateStatus.Signing"/>),
/// so a signature never exists without its row. Status changes only through the guarded methods.
/// </summary>
public sealed class CertificateEntity
{
    private const string KeyCompromise = "keyCompromise";

    private CertificateEntity()
    {
    }

    /// <summary>Surrogate key.</summary>
    public long Id { get; private set; }

    /// <summary>Serial as lowercase hex; unique (RFC 5280 §4.1.2.2: unique per issuer).</summary>
    public string SerialHex { get; private set; } = string.Empty;

    /// <summary>Issuing authority.</summary>
    public string IssuerName { get; private set; } = string.Empty;

    /// <summary>Subject DN text.</summary>
    public string Subject { get; private set; } = string.Empty;

    /// <summary>Identifiers, one per line (searched by the portal).</summary>
    public string Identifiers { get; private set; } = string.Empty;

    /// <summary>Profile.</summary>
    public string Profile { get; private set; } = string.Empty;

    /// <summary>Stored as a string.</summary>
    public CertificateStatus Status { get; private set; }

    /// <summary>Start of validity.</summary>
    public DateTimeOffset NotBefore { get; private set; }

    /// <summary>End of validity.</summary>
    public DateTimeOffset NotAfter { get; private set; }

    /// <summary>The linted TBSCertificate.</summary>
    public byte[] TbsDer { get; private set; } = [];

    /// <summary>The signed certificate.</summary>
    public byte[]? Der { get; private set; }

    /// <summary>The request it answers.</summary>
    public long RequestId { get; private set; }

    /// <summary>Recorded at.</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>Issued at.</summary>
    public DateTimeOffset? IssuedAt { get; private set; }

    /// <summary>Why signing failed.</summary>
    public string? FailureReason { get; private set; }

    /// <summary>Revocation time (RFC 5280 §5.3 revocationDate).</summary>
    public DateTimeOffset? RevokedAt { get; private set; }

    /// <summary>RFC 5280 §5.3.1 reason name.</summary>
    public string? RevocationReason { get; private set; }

    /// <summary>RFC 5280 §5.3.2 invalidity date.</summary>
    public DateTimeOffset? InvalidityDate { get; private set; }

    /// <summary>
    /// When the CRL entry last changed: the revocation, or a reason raised to keyCompromise afterwards (which keeps
    /// the revocation date). Delta CRLs and other processes' OCSP caches look for entries changed since a moment.
    /// </summary>
    public DateTimeOffset? RevocationChangedAt { get; private set; }

    /// <summary>
    /// SHA-256 of the certified SubjectPublicKeyInfo (lowercase hex): what finds every certificate of a key reported
    /// compromised. Empty on rows recorded before it was kept.
    /// </summary>
    public string? PublicKeySha256 { get; private set; }

    /// <summary>
    /// Records the key's fingerprint on a row recorded before it was kept (empty when its TBS cannot be read, so that
    /// it is not tried again); a row that has one keeps it.
    /// </summary>
    public void FillKeyFingerprint(string sha256)
    {
        PublicKeySha256 ??= sha256;
    }

    /// <summary>A row for a certificate about to be signed.</summary>
    public static CertificateEntity BeginSigning(CertificateDraft draft, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(draft);
        return new CertificateEntity
        {
            SerialHex = draft.SerialHex,
            IssuerName = draft.IssuerName,
            Subject = draft.Subject,
            Identifiers = string.Join('\n', draft.Identifiers),
            Profile = draft.Profile,
            Status = CertificateStatus.Signing,
            NotBefore = draft.NotBefore,
            NotAfter = draft.NotAfter,
            TbsDer = draft.TbsDer,
            PublicKeySha256 = draft.PublicKeySha256,
            CreatedAt = now,
        };
    }

    /// <summary>Stores the signed certificate.</summary>
    public void MarkIssued(byte[] der, DateTimeOffset now)
    {
        if (Status != CertificateStatus.Signing)
        {
            throw new CaException(CaErrorKind.InvalidState, $"Certificate {SerialHex} is {Status}; only a certificate being signed becomes issued.");
        }

        Der = der;
        Status = CertificateStatus.Issued;
        IssuedAt = now;
    }

    /// <summary>The signing attempt failed.</summary>
    public void MarkFailed(string reason)
    {
        if (Status != CertificateStatus.Signing)
        {
            throw new CaException(CaErrorKind.InvalidState, $"Certificate {SerialHex} is {Status} and cannot fail.");
        }

        Status = CertificateStatus.Failed;
        FailureReason = reason;
    }

    /// <summary>
    /// Revokes the certificate. A row still being signed can be revoked too: it may be a certificate whose final
    /// commit was lost, and revoking by serial must cover it. A certificate revoked for another reason can be revoked
    /// again for keyCompromise, which replaces its reason; any other second revocation is refused.
    /// </summary>
    public void Revoke(string reason, DateTimeOffset? invalidityDate, DateTimeOffset now)
    {
        if (Status == CertificateStatus.Revoked)
        {
            if (reason == KeyCompromise && RevocationReason != KeyCompromise)
            {
                // The key of a certificate revoked for another reason is reported compromised afterwards: the reason
                // becomes keyCompromise (as BR §4.9.1.1 asks of a compromised key) and the revocation date stays.
                RevocationReason = reason;
                InvalidityDate = invalidityDate ?? InvalidityDate;
                RevocationChangedAt = now;
                return;
            }

            throw new CaException(CaErrorKind.AlreadyExists, $"Certificate {SerialHex} was already revoked at {RevokedAt:u} ({RevocationReason}).");
        }

        if (Status is not (CertificateStatus.Issued or CertificateStatus.Signing))
        {
            throw new CaException(CaErrorKind.InvalidState, $"Certificate {SerialHex} is {Status}; only issued certificates can be revoked.");
        }

        Status = CertificateStatus.Revoked;
        RevokedAt = now;
        RevocationReason = reason;
        InvalidityDate = invalidityDate;
        RevocationChangedAt = now;
    }

    /// <summary>The domain view.</summary>
    public CertificateRecord ToRecord() => new()
    {
        SerialHex = SerialHex,
        IssuerName = IssuerName,
        Subject = Subject,
        Identifiers = CertificateRequestEntity.Split(Identifiers),
        Profile = Profile,
        Status = Status,
        NotBefore = NotBefore,
        NotAfter = NotAfter,
        RequestId = RequestId,
        Der = Der,
        TbsDer = TbsDer,
        RevokedAt = RevokedAt,
        RevocationReason = RevocationReason,
        InvalidityDate = InvalidityDate,
    };
}
