using System.Collections.Concurrent;
using MiniCa.Core.Keys;
using MiniCa.Core.Signing;
using Net.Pkcs11Interop.Common;
using Org.BouncyCastle.Security;

namespace MiniCa.Hsm.Tests;

[Collection(HsmCollection.Name)]
public sealed class SessionPoolTests(HsmFixture hsm)
{
    [Fact]
    public async Task Sign_32ThreadsAtOnce_EverySignatureVerifies()
    {
        var ec = hsm.Keys.GenerateKey(HsmFixture.UniqueKeyName("par-ec"), KeyAlgorithm.EcP256);
        var rsa = hsm.Keys.GenerateKey(HsmFixture.UniqueKeyName("par-rsa"), KeyAlgorithm.Rsa2048);
        var failures = new ConcurrentQueue<string>();
        var signatures = 0;
        using var start = new ManualResetEventSlim();

        var threads = Enumerable.Range(0, 32).Select(t => Task.Factory.StartNew(() =>
        {
            start.Wait();
            var signer = t % 2 == 0 ? ec : rsa;
            var algorithm = SignatureAlgorithms.DefaultFor(signer.Algorithm);
            for (var i = 0; i < 40; i++)
            {
                var data = BitConverter.GetBytes((t * 1000) + i);
                var signature = signer.Sign(algorithm, data);
                var verifier = SignerUtilities.GetSigner(SignatureAlgorithms.Identifier(algorithm).Algorithm);
                verifier.Init(false, signer.PublicKey);
                verifier.BlockUpdate(data, 0, data.Length);
                if (!verifier.VerifySignature(signature))
                {
                    failures.Enqueue($"thread {t} signature {i}");
                }

                Interlocked.Increment(ref signatures);
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        start.Set();
        await Task.WhenAll(threads);

        Assert.Empty(failures);
        Assert.Equal(32 * 40, signatures);
        Assert.InRange(hsm.Member.OpenSessions, 1, hsm.Settings.MaxSessions);
    }

    [Fact]
    public void Sign_AfterEverySessionWasClosed_OpensFreshSessionLogsInAndSucceeds()
    {
        var signer = hsm.Keys.GenerateKey(HsmFixture.UniqueKeyName("rec"), KeyAlgorithm.EcP256);
        signer.Sign(SignatureAlgorithm.EcdsaSha256, [1]);
        var before = hsm.Member.Recoveries;

        // A real fault: the module closes every session of the slot (and with them the login).
        hsm.Member.Library.GetSlotList(SlotsType.WithTokenPresent)
            .Single(s => s.SlotId == hsm.Member.SlotId)
            .CloseAllSessions();

        var signature = signer.Sign(SignatureAlgorithm.EcdsaSha256, [1]);

        Assert.NotEmpty(signature);
        Assert.True(hsm.Member.Recoveries > before);
        Assert.True(hsm.Member.GetStatus().LoggedIn);
    }

    [Fact]
    public void Sign_AfterLogout_LogsInAgainAndSucceeds()
    {
        var signer = hsm.Keys.GenerateKey(HsmFixture.UniqueKeyName("relog"), KeyAlgorithm.EcP256);
        signer.Sign(SignatureAlgorithm.EcdsaSha256, [1]);
        var before = hsm.Member.Recoveries;

        hsm.Member.Execute("log out", session =>
        {
            session.Logout();
            return 0;
        });

        var signature = signer.Sign(SignatureAlgorithm.EcdsaSha256, [2]);

        Assert.NotEmpty(signature);
        Assert.True(hsm.Member.Recoveries > before);
    }
}
