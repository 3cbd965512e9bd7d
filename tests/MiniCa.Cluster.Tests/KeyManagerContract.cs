using MiniCa.Core.Errors;
using MiniCa.Core.Keys;
using MiniCa.Core.Signing;
using MiniCa.Hsm;
using MiniCa.TestSupport;
using Org.BouncyCastle.Security;

namespace MiniCa.Cluster.Tests;

/// <summary>
/// What every <see cref="IKeyManager"/> promises the CA (STYLE rule 12: one contract suite, every implementation):
/// keys made in the token, found by name and by URI, signatures that verify under the key's public half, no
/// overwriting, a precise error for a missing key.
/// </summary>
public abstract class KeyManagerContract : IDisposable
{
    private readonly TempDirectory _directory = new("minica-keymanager");

    protected KeyManagerContract()
    {
        A = new P11KitToken(_directory.Path, "ContractA" + Guid.NewGuid().ToString("N")[..6]);
        B = new P11KitToken(_directory.Path, "ContractB" + Guid.NewGuid().ToString("N")[..6]);
    }

    protected P11KitToken A { get; }

    protected P11KitToken B { get; }

    /// <summary>The implementation under test.</summary>
    protected abstract IKeyManager Keys { get; }

    [Theory]
    [InlineData("P-256")]
    [InlineData("P-384")]
    [InlineData("RSA-2048")]
    public void GenerateKey_ThenSign_VerifiesUnderThePublicKey(string algorithm)
    {
        var name = "contract-" + algorithm.ToLowerInvariant();
        var generated = Keys.GenerateKey(name, KeyAlgorithm.Parse(algorithm));
        var message = "to be signed"u8.ToArray();

        foreach (var signatureAlgorithm in new[] { SignatureAlgorithms.DefaultFor(generated.Algorithm) })
        {
            var signature = Keys.GetSigner(name).Sign(signatureAlgorithm, message);
            var verifier = SignerUtilities.GetSigner(SignatureAlgorithms.Identifier(signatureAlgorithm).Algorithm.Id);
            verifier.Init(false, generated.PublicKey);
            verifier.BlockUpdate(message, 0, message.Length);
            Assert.True(verifier.VerifySignature(signature));
        }

        Assert.True(Keys.KeyExists(name));
        Assert.Equal(generated.PublicKeyInfo.GetDerEncoded(), Keys.GetSigner(generated.KeyUri).PublicKeyInfo.GetDerEncoded());
    }

    [Fact]
    public void GenerateKey_NameTaken_IsRefusedAndTheKeyKept()
    {
        var first = Keys.GenerateKey("contract-taken", KeyAlgorithm.Parse("P-256"));

        var error = Assert.Throws<CaException>(() => Keys.GenerateKey("contract-taken", KeyAlgorithm.Parse("P-256")));

        Assert.Equal(CaErrorKind.AlreadyExists, error.Kind);
        Assert.Equal(first.PublicKeyInfo.GetDerEncoded(), Keys.GetSigner("contract-taken").PublicKeyInfo.GetDerEncoded());
    }

    [Fact]
    public void GetSigner_UnknownKey_IsKeyNotFoundNamingIt()
    {
        var error = Assert.Throws<CaException>(() => Keys.GetSigner("contract-missing"));

        Assert.Equal(CaErrorKind.HsmKeyNotFound, error.Kind);
        Assert.Contains("contract-missing", error.Message, StringComparison.Ordinal);
        Assert.False(Keys.KeyExists("contract-missing"));

        // Asking first does not stand in the way of making it afterwards.
        var made = Keys.GenerateKey("contract-missing", KeyAlgorithm.Parse("P-256"));
        Assert.Equal(made.PublicKeyInfo.GetDerEncoded(), Keys.GetSigner("contract-missing").PublicKeyInfo.GetDerEncoded());
        Assert.NotEmpty(Keys.GetSigner("contract-missing").Sign(SignatureAlgorithm.EcdsaSha256, "x"u8));
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _directory.Dispose();
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }
}

/// <summary>The contract on one token (<see cref="Pkcs11KeyStore"/>).</summary>
public sealed class SingleMemberKeyManagerTests : KeyManagerContract
{
    private readonly HsmMember _member;

    public SingleMemberKeyManagerTests()
    {
        _member = HsmMember.Connect(A.DirectSettings("single"));
        Keys = new Pkcs11KeyStore(_member);
    }

    protected override IKeyManager Keys { get; }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _member.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>The contract on a two-member cluster (<see cref="ClusterKeyStore"/>): keys are made on the primary.</summary>
public sealed class ClusterKeyManagerTests : KeyManagerContract
{
    private readonly HsmCluster _cluster;

    public ClusterKeyManagerTests()
    {
        _cluster = new HsmCluster([A.DirectSettings("a"), B.DirectSettings("b")], new HsmClusterSettings { CopyableKeys = true });
        Keys = new ClusterKeyStore(_cluster);
    }

    protected override IKeyManager Keys { get; }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _cluster.Dispose();
        }

        base.Dispose(disposing);
    }
}
