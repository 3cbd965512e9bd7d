using Microsoft.Extensions.DependencyInjection;
using MiniCa.Authority.Issuance;
using MiniCa.Core.Configuration;
using MiniCa.Core.Keys;
using MiniCa.Core.Ledger;
using MiniCa.Core.Signing;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;

namespace MiniCa.Issuance.Tests;

/// <summary>
/// <c>Hsm:MaxConcurrentSignatures</c>: the pipeline never has more HSM signatures under way than its slots, and
/// the issuances waiting for a slot are still issued.
/// </summary>
[Collection(IssuanceCollection.Name)]
public sealed class SignatureSlotTests(IssuanceFixture ca)
{
    private const int Issuances = 12;

    /// <summary>The real key manager, its signers watched: how many signatures are in the HSM at once.</summary>
    private sealed class WatchedKeys(IKeyManager inner) : IKeyManager
    {
        private readonly Lock _gate = new();
        private int _current;
        private int _peak;

        public int Peak
        {
            get
            {
                lock (_gate)
                {
                    return _peak;
                }
            }
        }

        public IKeySigner GenerateKey(string keyName, KeyAlgorithm algorithm, byte[]? keyId = null) => inner.GenerateKey(keyName, algorithm, keyId);

        public IKeySigner GetSigner(string keyNameOrUri) => new WatchedSigner(inner.GetSigner(keyNameOrUri), this);

        public bool KeyExists(string keyName) => inner.KeyExists(keyName);

        public byte[] Sign(IKeySigner signer, SignatureAlgorithm algorithm, ReadOnlySpan<byte> data)
        {
            lock (_gate)
            {
                _peak = Math.Max(_peak, ++_current);
            }

            try
            {
                // Held a little longer than a SoftHSM2 signature, so that signatures allowed to overlap do.
                Thread.Sleep(20);
                return signer.Sign(algorithm, data);
            }
            finally
            {
                lock (_gate)
                {
                    _current--;
                }
            }
        }
    }

    /// <summary>A real HSM signer whose signatures <see cref="WatchedKeys"/> counts.</summary>
    private sealed class WatchedSigner(IKeySigner inner, WatchedKeys watcher) : IKeySigner
    {
        public string KeyName => inner.KeyName;

        public string KeyUri => inner.KeyUri;

        public string KeyId => inner.KeyId;

        public KeyAlgorithm Algorithm => inner.Algorithm;

        public AsymmetricKeyParameter PublicKey => inner.PublicKey;

        public SubjectPublicKeyInfo PublicKeyInfo => inner.PublicKeyInfo;

        public byte[] Sign(SignatureAlgorithm algorithm, ReadOnlySpan<byte> data) => watcher.Sign(inner, algorithm, data);
    }

    /// <summary>Issues <see cref="Issuances"/> certificates at once with <paramref name="limit"/> slots; returns the most signatures seen at once.</summary>
    private async Task<int> PeakSignaturesAsync(int limit, string prefix)
    {
        // Enough pool threads that, without slots, more than two signatures are under way at once (the control).
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, Issuances + 4), io);
        var shared = ca.Services.GetRequiredService<CaOptions>();
        var options = new CaOptions
        {
            DataDirectory = shared.DataDirectory,
            PublicBaseUrl = shared.PublicBaseUrl,
            PoliciesDirectory = shared.PoliciesDirectory,
            IssuingAuthority = shared.IssuingAuthority,
            Hsm = new HsmOptions { Members = shared.Hsm.Members, MaxSessions = shared.Hsm.MaxSessions, MaxConcurrentSignatures = limit },
            Database = shared.Database,
            Crl = shared.Crl,
            Authorities = shared.Authorities,
        };
        var keys = new WatchedKeys(ca.Services.GetRequiredService<IKeyManager>());
        using var service = ActivatorUtilities.CreateInstance<IssuanceService>(ca.Services, keys, options);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, Issuances).Select(i => Task.Run(() => service.SubmitAsync(
            new IssuanceSubmission { Csr = Csrs.Dns($"{prefix}-{i}.example.com"), Profile = "tls-server", Requester = "slots", Source = "test" }))));

        Assert.All(outcomes, o => Assert.Equal(RequestStatus.Issued, o.Status));
        return keys.Peak;
    }

    [Fact]
    public async Task OneSlot_SignsOneCertificateAtATime()
    {
        Assert.Equal(1, await PeakSignaturesAsync(1, "one-slot"));
    }

    [Fact]
    public async Task TwoSlots_SignNoMoreThanTwoAtATime()
    {
        Assert.InRange(await PeakSignaturesAsync(2, "two-slots"), 1, 2);
    }

    [Fact]
    public async Task NoLimit_SignsSeveralAtOnce()
    {
        // The control: the same load without slots overlaps more than two signatures, so the tests above can fail.
        Assert.True(await PeakSignaturesAsync(0, "no-limit") > 2, "without slots, more than two signatures should overlap");
    }
}
