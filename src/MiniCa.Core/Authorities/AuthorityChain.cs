namespace MiniCa.Core.Authorities;

/// <summary>The chain a relying party needs: a certificate followed by each issuing authority up to the root.</summary>
public static class AuthorityChain
{
    /// <summary>
    /// <paramref name="leaf"/>, then the active certificate of <paramref name="issuerName"/> and of its issuers, up
    /// to the self-issued root (at most four authorities deep); the root itself only when <paramref name="includeRoot"/>.
    /// </summary>
    public static async Task<IReadOnlyList<byte[]>> BuildAsync(IAuthorityReader authorities, byte[] leaf, string issuerName, bool includeRoot = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(authorities);
        ArgumentNullException.ThrowIfNull(leaf);
        var chain = new List<byte[]> { leaf };
        var name = issuerName;
        for (var depth = 0; depth < 4; depth++)
        {
            var authority = await authorities.FindActiveAsync(name, cancellationToken);
            if (authority?.CertificateDer is not { } der)
            {
                break;
            }

            if (authority.IssuerName == authority.Name)
            {
                if (includeRoot)
                {
                    chain.Add(der);
                }

                break;
            }

            chain.Add(der);

            name = authority.IssuerName;
        }

        return chain;
    }
}
