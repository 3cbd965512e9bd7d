using MiniCa.Core.Errors;
using MiniCa.Core.Keys;
using MiniCa.Core.Signing;
using MiniCa.Hsm;
using MiniCa.TestSupport;
using Org.BouncyCastle.Security;

namespace MiniCa.Cluster.Tests;

/// <summary>
/// Key copying between two SoftHSM2 tokens in two token stores, each opened through its own private copy of the
/// SoftHSM2 module (ModuleEnvironment SOFTHSM2_CONF). Not through p11-kit: its RPC (0.24) does not carry the AES
/// key-wrap mechanisms (C_WrapKey answers CKR_MECHANISM_INVALID), see the README.
/// </summary>
public sealed class KeyCopyTests : IDisposable
{
    private readonly TempDirectory _directory = new("minica-keycopy");
    private readonly P11KitToken _a;
    private readonly P11KitToken _b;
    private readonly HsmMember _source;
    private readonly HsmMember _target;

    public KeyCopyTests()
    {
        _a = new P11KitToken(_directory.Path, "CopyA");
        _b = new P11KitToken(_directory.Path, "CopyB");
        _source = HsmMember.Connect(_a.DirectSettings("a"));
        _target = HsmMember.Connect(_b.DirectSettings("b"));
    }

    [Fact]
    public void Copy_ToEmptyMember_KeysArriveNonExtractableAndSignUnderTheOriginalPublicKey()
    {
        var sourceKeys = new Pkcs11KeyStore(_source, copyable: true);
        var algorithms = new Dictionary<string, KeyAlgorithm>
        {
            ["k-p256"] = KeyAlgorithm.Parse("P-256"),
            ["k-p384"] = KeyAlgorithm.Parse("P-384"),
            ["k-rsa3072"] = KeyAlgorithm.Parse("RSA-3072"),
        };
        var publicKeys = algorithms.ToDictionary(a => a.Key, a => sourceKeys.GenerateKey(a.Key, a.Value).PublicKeyInfo.GetDerEncoded());
        var sourceInfo = sourceKeys.ListKeys().Single(k => k.Label == "k-p256");
        Assert.True(sourceInfo.Extractable);
        Assert.True(sourceInfo.WrapWithTrusted);
        Assert.True(sourceInfo.Sensitive);

        var results = KeyReplicator.Copy(_source, _target, [.. algorithms.Keys], label => publicKeys[label]);

        Assert.All(results, r => Assert.Equal("copied", r.Outcome));
        var targetKeys = new Pkcs11KeyStore(_target);
        var listed = targetKeys.ListKeys().ToDictionary(k => k.Label);
        foreach (var (label, algorithm) in algorithms)
        {
            var info = listed[label];
            Assert.True(info.Sensitive, label);
            Assert.False(info.Extractable, label);
            Assert.False(info.ValueReadable, label);
            Assert.True(info.Sign, label);
            Assert.False(info.Decrypt || info.Unwrap || info.Derive, label);

            var signer = targetKeys.GetSigner(label);
            Assert.Equal(publicKeys[label], signer.PublicKeyInfo.GetDerEncoded());
            var message = "signed by the copy"u8.ToArray();
            var signatureAlgorithm = SignatureAlgorithms.DefaultFor(algorithm);
            var signature = signer.Sign(signatureAlgorithm, message);
            var verifier = SignerUtilities.GetSigner(SignatureAlgorithms.Identifier(signatureAlgorithm).Algorithm.Id);
            verifier.Init(false, sourceKeys.GetSigner(label).PublicKey);
            verifier.BlockUpdate(message, 0, message.Length);
            Assert.True(verifier.VerifySignature(signature), label);
        }

        // The trusted key-encryption key is gone from the source afterwards.
        Assert.Empty(_source.Execute("list secret keys", s => HsmMember.FindAll(s, Net.Pkcs11Interop.Common.CKO.CKO_SECRET_KEY, null)));
        // Copying again finds the keys present and changes nothing.
        Assert.All(KeyReplicator.Copy(_source, _target, [.. algorithms.Keys], label => publicKeys[label]), r => Assert.Equal("present", r.Outcome));
    }

    [Fact]
    public void CopyableKey_CannotBeWrappedByAKeyTheSecurityOfficerDidNotTrust()
    {
        new Pkcs11KeyStore(_source, copyable: true).GenerateKey("guarded", KeyAlgorithm.Parse("P-256"));
        var f = Pkcs11Modules.Factories;

        var error = Assert.Throws<CaException>(() => _source.ExecuteReadWrite("wrap with an untrusted key", session =>
        {
            using var generate = f.MechanismFactory.Create(Net.Pkcs11Interop.Common.CKM.CKM_AES_KEY_GEN);
            var untrusted = session.GenerateKey(generate, [
                f.ObjectAttributeFactory.Create(Net.Pkcs11Interop.Common.CKA.CKA_CLASS, Net.Pkcs11Interop.Common.CKO.CKO_SECRET_KEY),
                f.ObjectAttributeFactory.Create(Net.Pkcs11Interop.Common.CKA.CKA_KEY_TYPE, Net.Pkcs11Interop.Common.CKK.CKK_AES),
                f.ObjectAttributeFactory.Create(Net.Pkcs11Interop.Common.CKA.CKA_VALUE_LEN, 32UL),
                f.ObjectAttributeFactory.Create(Net.Pkcs11Interop.Common.CKA.CKA_TOKEN, false),
                f.ObjectAttributeFactory.Create(Net.Pkcs11Interop.Common.CKA.CKA_WRAP, true),
            ]);
            using var wrap = f.MechanismFactory.Create(Net.Pkcs11Interop.Common.CKM.CKM_AES_KEY_WRAP_PAD);
            return session.WrapKey(wrap, untrusted, HsmMember.FindAll(session, Net.Pkcs11Interop.Common.CKO.CKO_PRIVATE_KEY, "guarded")[0]);
        }));

        Assert.Contains("CKR_KEY_NOT_WRAPPABLE", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Copy_TamperedBlob_FailsWithoutLeavingHalfAKey()
    {
        var spki = new Pkcs11KeyStore(_source, copyable: true).GenerateKey("tampered", KeyAlgorithm.Parse("P-256")).PublicKeyInfo.GetDerEncoded();

        var results = KeyReplicator.Copy(_source, _target, ["tampered"], _ => spki, new KeyCopyFaults
        {
            TamperWrappedKey = blob =>
            {
                var copy = blob.ToArray();
                copy[copy.Length / 2] ^= 0x5a;
                return copy;
            },
        });

        var result = Assert.Single(results);
        Assert.Equal("failed", result.Outcome);
        Assert.Contains("nothing of it was left", result.Detail, StringComparison.Ordinal);
        AssertNothingLabelled(_target, "tampered");
    }

    [Fact]
    public void Copy_WrongWrappingKey_FailsWithoutLeavingHalfAKey()
    {
        var spki = new Pkcs11KeyStore(_source, copyable: true).GenerateKey("wrongkek", KeyAlgorithm.Parse("P-384")).PublicKeyInfo.GetDerEncoded();

        var results = KeyReplicator.Copy(_source, _target, ["wrongkek"], _ => spki, new KeyCopyFaults { WrongUnwrappingKey = true });

        Assert.Equal("failed", Assert.Single(results).Outcome);
        AssertNothingLabelled(_target, "wrongkek");
    }

    [Fact]
    public void Copy_KeyNotMadeCopyable_IsRefusedByTheSourceWithAReason()
    {
        var spki = new Pkcs11KeyStore(_source).GenerateKey("stuck", KeyAlgorithm.Parse("P-256")).PublicKeyInfo.GetDerEncoded();

        var result = Assert.Single(KeyReplicator.Copy(_source, _target, ["stuck"], _ => spki));

        Assert.Equal("failed", result.Outcome);
        Assert.Contains("not created copyable", result.Detail, StringComparison.Ordinal);
        AssertNothingLabelled(_target, "stuck");
    }

    [Fact]
    public void Copy_WithoutSoPinSource_SaysWhatIsMissing()
    {
        var spki = new Pkcs11KeyStore(_source, copyable: true).GenerateKey("nopin", KeyAlgorithm.Parse("P-256")).PublicKeyInfo.GetDerEncoded();
        using var withoutSo = HsmMember.Connect(_a.DirectSettings("a2") with { SoPinSource = null });

        var error = Assert.Throws<CaException>(() => KeyReplicator.Copy(withoutSo, _target, ["nopin"], _ => spki));

        Assert.Contains("has no SoPinSource", error.Message, StringComparison.Ordinal);
    }

    private static void AssertNothingLabelled(HsmMember member, string label)
    {
        foreach (var objectClass in new[] { Net.Pkcs11Interop.Common.CKO.CKO_PRIVATE_KEY, Net.Pkcs11Interop.Common.CKO.CKO_PUBLIC_KEY })
        {
            Assert.Empty(member.Execute("look for leftovers", s => HsmMember.FindAll(s, objectClass, label)));
        }
    }

    public void Dispose()
    {
        _source.Dispose();
        _target.Dispose();
        _a.Dispose();
        _b.Dispose();
        _directory.Dispose();
    }
}
