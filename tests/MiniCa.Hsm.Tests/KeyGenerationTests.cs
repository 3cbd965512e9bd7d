using MiniCa.Core.Errors;
using MiniCa.Core.Keys;
using MiniCa.Core.Signing;
using MiniCa.TestSupport;
using Net.Pkcs11Interop.Common;
using Org.BouncyCastle.Security;

namespace MiniCa.Hsm.Tests;

[Collection(HsmCollection.Name)]
public sealed class KeyGenerationTests(HsmFixture hsm)
{
    public static TheoryData<string> Algorithms => ["P-256", "P-384", "RSA-2048", "RSA-3072", "RSA-4096"];

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void GenerateKey_AnyAlgorithm_KeyIsSensitiveNeverExtractableAndSignOnly(string algorithmName)
    {
        var algorithm = KeyAlgorithm.Parse(algorithmName);
        var name = HsmFixture.UniqueKeyName("gen");

        var signer = hsm.Keys.GenerateKey(name, algorithm);

        Assert.Equal(algorithm, signer.Algorithm);
        var info = Assert.Single(hsm.Keys.ListKeys(), k => k.Label == name);
        Assert.True(info.Sensitive);
        Assert.True(info.AlwaysSensitive);
        Assert.False(info.Extractable);
        Assert.True(info.NeverExtractable);
        Assert.True(info.Local);
        Assert.True(info.Private);
        Assert.True(info.Token);
        Assert.True(info.Sign);
        Assert.False(info.Decrypt);
        Assert.False(info.Unwrap);
        Assert.False(info.Derive);
        Assert.False(info.SignRecover);
        Assert.False(info.Modifiable);
        Assert.False(info.ValueReadable);
        Assert.Equal(algorithm.Family == KeyFamily.Ec ? "EC" : "RSA", info.KeyType);
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Sign_EverySignatureAlgorithmTheKeyFits_VerifiesWithThePublicKey(string algorithmName)
    {
        var algorithm = KeyAlgorithm.Parse(algorithmName);
        var signer = hsm.Keys.GenerateKey(HsmFixture.UniqueKeyName("sig"), algorithm);
        var data = "to be signed"u8.ToArray();

        foreach (var signature in Enum.GetValues<SignatureAlgorithm>().Where(s => SignatureAlgorithms.Fits(s, algorithm)))
        {
            var bytes = signer.Sign(signature, data);

            var verifier = SignerUtilities.GetSigner(SignatureAlgorithms.Identifier(signature).Algorithm);
            if (signature is SignatureAlgorithm.RsaPssSha256 or SignatureAlgorithm.RsaPssSha384)
            {
                verifier = SignerUtilities.GetSigner(signature == SignatureAlgorithm.RsaPssSha256 ? "SHA-256withRSAandMGF1" : "SHA-384withRSAandMGF1");
            }

            verifier.Init(false, signer.PublicKey);
            verifier.BlockUpdate(data, 0, data.Length);
            Assert.True(verifier.VerifySignature(bytes), $"{signature} signature by a {algorithm} key does not verify");
            data[0] ^= 1;
            verifier.Reset();
            verifier.BlockUpdate(data, 0, data.Length);
            Assert.False(verifier.VerifySignature(bytes), $"{signature} signature verified over different data");
            data[0] ^= 1;
        }
    }

    [Fact]
    public async Task Pkcs11Tool_ListObjects_ShowsGeneratedKeySensitiveNeverExtractableSignOnly()
    {
        var tool = Prerequisites.RequireProgram("pkcs11-tool", "opensc");
        var name = HsmFixture.UniqueKeyName("tool");
        hsm.Keys.GenerateKey(name, KeyAlgorithm.EcP256);

        var result = await ProcessRunner.RunAsync(
            tool,
            ["--module", hsm.ModulePath, "--token-label", EmbeddedSoftHsm.TokenLabel, "--login", "--pin", hsm.UserPin, "--list-objects", "--type", "privkey"],
            new Dictionary<string, string?> { ["SOFTHSM2_CONF"] = hsm.Paths.ConfigFile });

        Assert.Equal(0, result.ExitCode);
        var block = result.StandardOutput.Split("Private Key Object").Single(b => b.Contains($"label:      {name}", StringComparison.Ordinal));
        Assert.Contains("Usage:      sign", block, StringComparison.Ordinal);
        Assert.DoesNotContain("decrypt", block, StringComparison.Ordinal);
        Assert.DoesNotContain("unwrap", block, StringComparison.Ordinal);
        Assert.Contains("Access:     sensitive, always sensitive, never extractable, local", block, StringComparison.Ordinal);
    }

    [Fact]
    public void GenerateKey_NameAlreadyUsed_IsRefusedAndKeepsTheFirstKey()
    {
        var name = HsmFixture.UniqueKeyName("dup");
        var first = hsm.Keys.GenerateKey(name, KeyAlgorithm.EcP256);

        var error = Assert.Throws<CaException>(() => hsm.Keys.GenerateKey(name, KeyAlgorithm.EcP256));

        Assert.Equal(CaErrorKind.AlreadyExists, error.Kind);
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
        Assert.Single(hsm.Keys.ListKeys(), k => k.Label == name);
        Assert.Equal(first.PublicKeyInfo.GetEncoded(), hsm.Keys.GetSigner(name).PublicKeyInfo.GetEncoded());
    }

    [Fact]
    public void GetSigner_ByPkcs11Uri_FindsTheSameKeyAsByName()
    {
        var name = HsmFixture.UniqueKeyName("uri");
        var signer = hsm.Keys.GenerateKey(name, KeyAlgorithm.EcP384);

        Assert.StartsWith("pkcs11:", signer.KeyUri, StringComparison.Ordinal);
        Assert.Contains("object=" + name, signer.KeyUri, StringComparison.Ordinal);
        Assert.Contains("type=private", signer.KeyUri, StringComparison.Ordinal);
        var byUri = hsm.Keys.GetSigner(signer.KeyUri);
        Assert.Equal(signer.PublicKeyInfo.GetEncoded(), byUri.PublicKeyInfo.GetEncoded());

        var idOnly = "pkcs11:token=MiniCa;id=" + signer.KeyUri.Split(';').Single(p => p.StartsWith("id=", StringComparison.Ordinal))[3..];
        Assert.Equal(name, hsm.Keys.GetSigner(idOnly).KeyName);
    }

    /// <summary>
    /// SoftHSM2 2.6.1 loses an object that one thread creates or reads while another thread of the process starts a
    /// search (upstream issue 573), so searches, object changes and attribute reads on one token take turns, also
    /// across members connected to it (here a second member searches). Without any turn, 21 of 300 generations
    /// failed (CKR_GENERAL_ERROR, CKR_TEMPLATE_INCONSISTENT, or the new key not found); with turns for searches and
    /// changes only, 3 of 960 (a half of the new key not found, then found).
    /// </summary>
    [Fact]
    public async Task GenerateKey_WhileAnotherMemberSearchesTheToken_EveryKeyArrivesWhole()
    {
        using var second = HsmMember.Connect(hsm.Settings with { Name = "searcher" });
        var secondKeys = new Pkcs11KeyStore(second);
        using var stop = new CancellationTokenSource();
        var searches = 0;
        var searcher = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                secondKeys.KeyExists("never-generated");
                Interlocked.Increment(ref searches);
            }
        });

        var failures = new List<string>();
        for (var i = 0; i < 120; i++)
        {
            var name = HsmFixture.UniqueKeyName("race");
            try
            {
                hsm.Keys.GenerateKey(name, KeyAlgorithm.EcP256);
                var (privateKeys, publicKeys) = hsm.Member.Execute("count the key's objects", s =>
                    (hsm.Member.Find(s, CKO.CKO_PRIVATE_KEY, name).Count, hsm.Member.Find(s, CKO.CKO_PUBLIC_KEY, name).Count));
                if ((privateKeys, publicKeys) != (1, 1))
                {
                    failures.Add($"{name}: {privateKeys} private and {publicKeys} public key objects");
                }

                hsm.Keys.DestroyKey(name);
            }
            catch (CaException ex)
            {
                failures.Add(ex.Message);
            }
        }

        await stop.CancelAsync();
        await searcher;
        Assert.True(searches > 120, $"the searches did not overlap the generations ({searches} searches)");
        Assert.Empty(failures);
    }

    /// <summary>
    /// Two makers (two members on one token, as two processes would be) generating a key of one name at the same
    /// moment: the look-up before a generation cannot see the other's key, and PKCS#11 labels are not unique, so both
    /// make one. One is kept and the other maker is refused, its key destroyed: never two keys of a name, which no
    /// signing could use. Without the check after the generation, most rounds left two keys.
    /// </summary>
    [Fact]
    public async Task GenerateKey_OneNameByTwoMakersAtOnce_OneKeyIsKept_TheOtherMakerIsRefused()
    {
        using var second = HsmMember.Connect(hsm.Settings with { Name = "rival" });
        var makers = new[] { hsm.Keys, new Pkcs11KeyStore(second) };
        var failures = new List<string>();
        var bothMade = 0;
        // 20 rounds, and more (100 at most) until one of them had both makers generate a key.
        for (var round = 0; round < 20 || (bothMade == 0 && round < 100); round++)
        {
            var name = HsmFixture.UniqueKeyName("twice");
            using var start = new Barrier(makers.Length);
            var results = await Task.WhenAll(makers.Select(keys => Task.Run(() =>
            {
                start.SignalAndWait();
                try
                {
                    return (Signer: keys.GenerateKey(name, KeyAlgorithm.EcP256), Refusal: (string?)null);
                }
                catch (CaException e) when (e.Kind == CaErrorKind.AlreadyExists)
                {
                    return (Signer: (IKeySigner?)null, Refusal: e.Message);
                }
            })));

            var (privateKeys, publicKeys) = hsm.Member.Execute("count the key's objects", s =>
                (hsm.Member.Find(s, CKO.CKO_PRIVATE_KEY, name).Count, hsm.Member.Find(s, CKO.CKO_PUBLIC_KEY, name).Count));
            var kept = results.Where(r => r.Signer is not null).ToList();
            if (kept.Count != 1 || (privateKeys, publicKeys) != (1, 1))
            {
                failures.Add($"{name}: {kept.Count} generations returned, {privateKeys} private and {publicKeys} public key objects left");
            }
            else if (!kept[0].Signer!.PublicKeyInfo.Equals(new Pkcs11KeyStore(hsm.Member).GetSigner(name).PublicKeyInfo))
            {
                failures.Add($"{name}: the generation that returned holds another key than the token's");
            }

            if (results.Any(r => r.Refusal?.Contains("at the same moment; the key generated here was destroyed at once", StringComparison.Ordinal) == true))
            {
                bothMade++;
            }

            if (privateKeys > 0)
            {
                hsm.Keys.DestroyKey(name);
            }
        }

        Assert.Empty(failures);
        Assert.True(bothMade > 0, "in 100 rounds both makers never generated a key (each refusal came from the look-up before): the race was not exercised");
    }
}
