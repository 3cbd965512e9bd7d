using MiniCa.Core.Authorities;
using MiniCa.Core.Errors;

namespace MiniCa.Data.Entities;

/// <summary>A CA certificate row. State changes only through <see cref="Activate"/>.</summary>
public sealed class AuthorityEntity
{
    private AuthorityEntity()
    {
    }

    /// <summary>Surrogate key.</summary>
    public long Id { get; private set; }

    /// <summary>The authority's configured name; unique.</summary>
    public string Name { get; private set; } = string.Empty;

    /// <summary>The name of the authority that signed it.</summary>
    public string IssuerName { get; private set; } = string.Empty;

    /// <summary>Serial as lowercase hex; unique.</summary>
    public string SerialHex { get; private set; } = string.Empty;

    /// <summary>Subject DN.</summary>
    public string Subject { get; private set; } = string.Empty;

    /// <summary>Address of the key in the HSM.</summary>
    public string KeyUri { get; private set; } = string.Empty;

    /// <summary>Start of validity.</summary>
    public DateTimeOffset NotBefore { get; private set; }

    /// <summary>End of validity.</summary>
    public DateTimeOffset NotAfter { get; private set; }

    /// <summary>The TBSCertificate recorded before signing.</summary>
    public byte[] TbsDer { get; private set; } = [];

    /// <summary>The signed certificate; null while pending.</summary>
    public byte[]? CertificateDer { get; private set; }

    /// <summary>Stored as a string.</summary>
    public AuthorityStatus Status { get; private set; }

    /// <summary>When the row was recorded.</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>When the signed certificate was stored.</summary>
    public DateTimeOffset? ActivatedAt { get; private set; }

    /// <summary>A pending row for <paramref name="pending"/>.</summary>
    public static AuthorityEntity Reserve(AuthorityCertificate pending, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(pending);
        return new AuthorityEntity
        {
            Name = pending.Name,
            IssuerName = pending.IssuerName,
            SerialHex = pending.SerialHex,
            Subject = pending.Subject,
            KeyUri = pending.KeyUri,
            NotBefore = pending.NotBefore,
            NotAfter = pending.NotAfter,
            TbsDer = pending.TbsDer,
            Status = AuthorityStatus.Pending,
            CreatedAt = now,
        };
    }

    /// <summary>Stores the signed certificate; only a pending row can be activated, once.</summary>
    public void Activate(byte[] certificateDer, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certificateDer);
        if (Status != AuthorityStatus.Pending)
        {
            throw new CaException(CaErrorKind.InvalidState, $"Authority '{Name}' is {Status}; only a pending authority can be activated.");
        }

        CertificateDer = certificateDer;
        Status = AuthorityStatus.Active;
        ActivatedAt = now;
    }

    /// <summary>The domain view of this row.</summary>
    public AuthorityCertificate ToDomain() => new()
    {
        Name = Name,
        IssuerName = IssuerName,
        SerialHex = SerialHex,
        Subject = Subject,
        KeyUri = KeyUri,
        NotBefore = NotBefore,
        NotAfter = NotAfter,
        TbsDer = TbsDer,
        CertificateDer = CertificateDer,
        Status = Status,
    };
}
