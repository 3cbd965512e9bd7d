using MiniCa.Core.Keys;

namespace MiniCa.Core.Signing;

/// <summary>Creates and finds signing keys by logical name (or by URI).</summary>
public interface IKeyManager
{
    /// <summary>Generates a new key named <paramref name="keyName"/> where the keys live, and returns its signer.</summary>
    /// <param name="keyName">The logical name (the PKCS#11 label).</param>
    /// <param name="algorithm">The key's algorithm.</param>
    /// <param name="keyId">The key's identifier (PKCS#11 <c>CKA_ID</c>, see <see cref="IKeySigner.KeyId"/>), chosen by a
    /// caller that recorded it before the key existed; random when <see langword="null"/>.</param>
    /// <exception cref="Errors.CaException">A key with that name exists, or generation failed.</exception>
    IKeySigner GenerateKey(string keyName, KeyAlgorithm algorithm, byte[]? keyId = null);

    /// <summary>Returns the signer of an existing key, by logical name or URI.</summary>
    /// <exception cref="Errors.CaException">The key does not exist (<see cref="Errors.CaErrorKind.HsmKeyNotFound"/>).</exception>
    IKeySigner GetSigner(string keyNameOrUri);

    /// <summary>Whether a key with that logical name exists.</summary>
    bool KeyExists(string keyName);
}
