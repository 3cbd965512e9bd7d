using System.Security.Cryptography;
using MiniCa.Core.Requests;

namespace MiniCa.Unit.Tests.Requests;

/// <summary>The CSR verification path through OpenSSL's EC_KEY interface, against .NET's ECDsa as the reference.</summary>
public sealed class OpenSslEcdsaTests
{
    private static readonly byte[] Message = "certificationRequestInfo"u8.ToArray();

    private static (byte[] Point, byte[] Digest, byte[] Signature) Signed(ECCurve curve, HashAlgorithmName hash)
    {
        using var key = ECDsa.Create(curve);
        var q = key.ExportParameters(false).Q;
        var digest = hash == HashAlgorithmName.SHA256 ? SHA256.HashData(Message) : hash == HashAlgorithmName.SHA384 ? SHA384.HashData(Message) : SHA512.HashData(Message);
        return ([0x04, .. q.X!, .. q.Y!], digest, key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence));
    }

    [Theory]
    [InlineData("P-256", "SHA256")]
    [InlineData("P-384", "SHA384")]
    [InlineData("P-384", "SHA256")]
    [InlineData("P-521", "SHA512")]
    public void Verify_SignatureOfTheKey_IsTrueOnThisMachine(string curve, string hash)
    {
        var (point, digest, signature) = Signed(curve switch { "P-256" => ECCurve.NamedCurves.nistP256, "P-384" => ECCurve.NamedCurves.nistP384, _ => ECCurve.NamedCurves.nistP521 }, new HashAlgorithmName(hash));

        // Not null: libcrypto.so.3 is part of Debian 12's base system; without it CSRs verify through .NET, slower.
        Assert.True(OpenSslEcdsa.Verify(curve, point, digest, signature));
    }

    [Fact]
    public void Verify_TamperedSignatureOrDigest_IsFalse()
    {
        var (point, digest, signature) = Signed(ECCurve.NamedCurves.nistP256, HashAlgorithmName.SHA256);
        var badSignature = (byte[])signature.Clone();
        badSignature[^1] ^= 0x01;
        var badDigest = (byte[])digest.Clone();
        badDigest[0] ^= 0x80;

        Assert.False(OpenSslEcdsa.Verify("P-256", point, digest, badSignature));
        Assert.False(OpenSslEcdsa.Verify("P-256", point, badDigest, signature));
        Assert.False(OpenSslEcdsa.Verify("P-256", point, digest, [0x30, 0x00]));
    }

    [Fact]
    public void Verify_PointOffTheCurveOrAnotherKey_IsFalse()
    {
        var (point, digest, signature) = Signed(ECCurve.NamedCurves.nistP256, HashAlgorithmName.SHA256);
        var offCurve = (byte[])point.Clone();
        offCurve[^1] ^= 0x01;
        var (otherPoint, _, _) = Signed(ECCurve.NamedCurves.nistP256, HashAlgorithmName.SHA256);

        Assert.False(OpenSslEcdsa.Verify("P-256", offCurve, digest, signature));
        Assert.False(OpenSslEcdsa.Verify("P-256", otherPoint, digest, signature));
    }

    [Fact]
    public void Verify_CompressedPointOrOtherCurve_IsLeftToTheCaller()
    {
        var (point, digest, signature) = Signed(ECCurve.NamedCurves.nistP256, HashAlgorithmName.SHA256);
        byte[] compressed = [(byte)(0x02 | (point[^1] & 1)), .. point.AsSpan(1, 32)];

        Assert.Null(OpenSslEcdsa.Verify("P-256", compressed, digest, signature));
        Assert.Null(OpenSslEcdsa.Verify("secp256k1", point, digest, signature));
        Assert.Null(OpenSslEcdsa.Verify("P-256", [], digest, signature));
    }
}
