using System.Security.Claims;
using MiniCa.Authority.Revocation;
using MiniCa.Core.Errors;
using MiniCa.Core.Keys;
using MiniCa.Core.Ledger;
using MiniCa.Hosting.Users;

namespace MiniCa.Web.Portal;

/// <summary>
/// Keys reported compromised, as the portal and the API show them (BR §6.1.1.3 (4)): Officers, Auditors and
/// Administrators see the list; Officers block a key (every unexpired certificate of it is revoked) and lift a block
/// made by mistake.
/// </summary>
internal sealed class BlockedKeyService(IIssuanceReader reader, RevocationService revocation)
{
    /// <summary>The longest note kept in the audit log.</summary>
    public const int MaxNoteLength = 1024;

    /// <summary>The most blocks listed at once.</summary>
    public const int MaxListed = 10_000;

    /// <summary>Whether <paramref name="user"/> may block keys and lift blocks.</summary>
    public static bool MayChange(ClaimsPrincipal user) => user?.IsInRole(PortalRoles.Officer) == true;

    /// <summary>The blocks, most recent first.</summary>
    public Task<IReadOnlyList<BlockedKey>> ListAsync(int limit, CancellationToken cancellationToken = default) =>
        reader.ListBlockedKeysAsync(Math.Clamp(limit, 1, MaxListed), cancellationToken);

    /// <summary>
    /// Blocks the key of <paramref name="key"/> (a certificate, CSR or public key: PEM text, or base64 of DER) and
    /// revokes every unexpired certificate of it for keyCompromise.
    /// </summary>
    /// <param name="user">Who blocks it (an Officer).</param>
    /// <param name="key">What holds the key.</param>
    /// <param name="note">How the compromise was reported, for the audit log.</param>
    /// <param name="door">Where it came from (<c>portal</c>, <c>API</c>), for the audit log.</param>
    /// <param name="cancellationToken">Cancels the wait for the database.</param>
    public async Task<KeyBlockOutcome> BlockAsync(ClaimsPrincipal user, string? key, string? note, string door, CancellationToken cancellationToken = default)
    {
        Demand(user);
        if (string.IsNullOrWhiteSpace(key))
        {
            throw new CaException(CaErrorKind.Malformed, "The key is required: a certificate, CSR or public key of it, in PEM (or base64 of its DER).");
        }

        var text = Note(note, required: false);
        var (publicKey, kind) = PublicKeyFile.Read(PastedDer.Bytes(key, "The key given is neither PEM (-----BEGIN ...) nor base64 of DER."), "The key given", isFile: false);
        return await revocation.BlockKeyAsync(publicKey, user.Name(), $"{text ?? "reported compromised"} ({kind} given in the {door})", cancellationToken);
    }

    /// <summary>As <see cref="BlockAsync"/>, from an uploaded file (PEM or DER).</summary>
    /// <param name="user">Who blocks it (an Officer).</param>
    /// <param name="content">The file's bytes, at most <see cref="PublicKeyFile.MaxBytes"/>.</param>
    /// <param name="fileName">The file's name, for messages and the audit log.</param>
    /// <param name="note">How the compromise was reported, for the audit log.</param>
    /// <param name="cancellationToken">Cancels the wait for the database.</param>
    public async Task<KeyBlockOutcome> BlockFileAsync(ClaimsPrincipal user, byte[] content, string fileName, string? note, CancellationToken cancellationToken = default)
    {
        Demand(user);
        ArgumentNullException.ThrowIfNull(content);
        var text = Note(note, required: false);
        var (publicKey, kind) = PublicKeyFile.Read(content, fileName);
        return await revocation.BlockKeyAsync(publicKey, user.Name(), $"{text ?? "reported compromised"} ({kind} in the file {fileName} uploaded to the portal)", cancellationToken);
    }

    /// <summary>Lifts the block of a key blocked by mistake; the certificates revoked with it stay revoked.</summary>
    /// <exception cref="CaException">No note (Malformed), not a fingerprint (Malformed), the key is not blocked (NotFound), not an Officer (Forbidden).</exception>
    public async Task<BlockedKey> LiftAsync(ClaimsPrincipal user, string keySha256, string? note, CancellationToken cancellationToken = default)
    {
        Demand(user);
        var text = Note(note, required: true)!;
        return await revocation.UnblockKeyAsync(keySha256 ?? string.Empty, user.Name(), text, cancellationToken);
    }

    private static void Demand(ClaimsPrincipal user)
    {
        if (!MayChange(user))
        {
            throw new CaException(CaErrorKind.Forbidden, "Only an officer may block a key or lift a block.");
        }
    }

    private static string? Note(string? note, bool required)
    {
        if (string.IsNullOrWhiteSpace(note))
        {
            return required ? throw new CaException(CaErrorKind.Malformed, "A note is required: say why the block is lifted, for the audit log.") : null;
        }

        return note.Length > MaxNoteLength
            ? throw new CaException(CaErrorKind.Malformed, $"The note is {note.Length} characters; at most {MaxNoteLength} are kept.")
            : note.Trim();
    }
}
