using System.Collections.Concurrent;
using MiniCa.Core.Errors;
using MiniCa.Core.Keys;
using MiniCa.Core.Signing;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;

namespace MiniCa.Hsm;

/// <summary>
/// The CA's keys across an <see cref="HsmCluster"/>: keys are generated on the primary member (and copied to the
/// others with <c>minica hsm sync</c>); signatures go to whichever healthy member holds the key.
/// </summary>
public sealed class ClusterKeyStore(HsmCluster cluster) : IKeyManager
{
    private readonly ConcurrentDictionary<string, ClusterSigner> _signers = new(StringComparer.Ordinal);

    /// <summary>The cluster.</summary>
    public HsmCluster Cluster { get; } = cluster ?? throw new ArgumentNullException(nameof(cluster));

    /// <inheritdoc />
    public IKeySigner GenerateKey(string keyName, KeyAlgorithm algorithm, byte[]? keyId = null)
    {
        if (KeyExists(keyName))
        {
            throw new CaException(CaErrorKind.AlreadyExists, $"A key named '{keyName}' already exists in the HSM cluster; keys are never overwritten.");
        }

        var primary = Cluster.Primary;
        var signer = primary.Keys.GenerateKey(keyName, algorithm, keyId);
        Cluster.SetReference(keyName, signer.PublicKeyInfo.GetDerEncoded());
        primary.ClearKeyAbsent(keyName);
        foreach (var member in Cluster.Members.Where(m => m != primary))
        {
            member.MarkKeyAbsent(keyName, "generated on another member; copy it with `minica hsm sync --repair`");
        }

        return GetSigner(keyName);
    }

    /// <inheritdoc />
    public IKeySigner GetSigner(string keyNameOrUri)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyNameOrUri);
        // Members are different tokens: the object label names the logical key on each of them.
        keyNameOrUri = Pkcs11KeyStore.LogicalName(keyNameOrUri);

        if (_signers.TryGetValue(keyNameOrUri, out var cached))
        {
            return cached;
        }

        // The public half, from the first member that holds the key (which also fixes the cluster's reference).
        var first = Cluster.Execute(keyNameOrUri, $"read the public key of '{keyNameOrUri}'", m => m.GetSigner(keyNameOrUri));
        var signer = new ClusterSigner(Cluster, first);
        return _signers.GetOrAdd(keyNameOrUri, signer);
    }

    /// <inheritdoc />
    public bool KeyExists(string keyName)
    {
        _ = Cluster.Primary;
        foreach (var member in Cluster.Members.Where(m => m.State == HsmMemberState.Up))
        {
            try
            {
                if (member.Keys.KeyExists(keyName))
                {
                    return true;
                }
            }
            catch (Exception ex) when (HsmCluster.IsMemberFailure(ex))
            {
                // A member that fails now is marked down by the next operation; the others answer.
            }
        }

        return false;
    }
}

/// <summary>A logical key signed with on any healthy member that holds it.</summary>
internal sealed class ClusterSigner : IKeySigner
{
    private readonly HsmCluster _cluster;
    private readonly string _action;

    internal ClusterSigner(HsmCluster cluster, IKeySigner first)
    {
        _cluster = cluster;
        KeyName = first.KeyName;
        KeyUri = first.KeyUri;
        KeyId = first.KeyId;
        Algorithm = first.Algorithm;
        PublicKey = first.PublicKey;
        PublicKeyInfo = first.PublicKeyInfo;
        _action = $"sign with key '{KeyName}'";
    }

    public string KeyName { get; }

    public string KeyUri { get; }

    public string KeyId { get; }

    public KeyAlgorithm Algorithm { get; }

    public AsymmetricKeyParameter PublicKey { get; }

    public SubjectPublicKeyInfo PublicKeyInfo { get; }

    public byte[] Sign(SignatureAlgorithm algorithm, ReadOnlySpan<byte> data)
    {
        if (SignatureAlgorithms.IsEcdsa(algorithm))
        {
            // Hashed once here: a 50 MB CRL is not copied, and a retry on another member signs the same digest.
            SignatureAlgorithms.EnsureFits(algorithm, Algorithm);
            var digest = Pkcs11Signer.EcdsaDigest(algorithm, data);
            return _cluster.Execute(KeyName, _action, member => ((Pkcs11Signer)member.GetSigner(KeyName)).SignDigest(algorithm, digest));
        }

        var bytes = data.ToArray();
        return _cluster.Execute(KeyName, _action, member => member.GetSigner(KeyName).Sign(algorithm, bytes));
    }
}
