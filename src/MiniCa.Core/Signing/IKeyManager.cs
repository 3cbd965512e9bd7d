using MiniCa.Core.Keys;

namespace MiniCa.Core.Signing;

/// <summary>Creates and finds signing keys by logical name (or by URI).</summary>
public interface IKeyManager
{
    /// <summary>Generates a new key named <paramref name="keyName"/> where the keys live, and returns its signer.</summary>
    /// <exception cref="Errors.CaException">A key with that name exists, or generation failed.</exception>
    IKeySigner GenerateKey(string keyName, KeyAlgorithm algorithm);

    /// <summary>Returns the signer of an existing key, by logical name or URI.</summary>
    /// <exception cref="Errors.CaException">The key does not exist (<see cref="Errors.CaErrorKind.HsmKeyNotFound"/>).</exception>
    IKeySigner GetSigner(string keyNameOrUri);

    /// <summary>Whether a key with that logical name exists.</summary>
    bool KeyExists(string keyName);
}
