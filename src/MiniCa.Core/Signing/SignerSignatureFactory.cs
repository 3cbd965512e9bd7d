using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;

namespace MiniCa.Core.Signing;

/// <summary>
/// A BouncyCastle <see cref="ISignatureFactory"/> that signs through an <see cref="IKeySigner"/>, so that
/// certificate, CRL and OCSP generators sign with a key that never leaves its HSM.
/// </summary>
public sealed class SignerSignatureFactory : ISignatureFactory
{
    private readonly IKeySigner _signer;
    private readonly SignatureAlgorithm _algorithm;

    /// <summary>Creates a factory for <paramref name="signer"/> signing with <paramref name="algorithm"/>.</summary>
    public SignerSignatureFactory(IKeySigner signer, SignatureAlgorithm algorithm)
    {
        ArgumentNullException.ThrowIfNull(signer);
        SignatureAlgorithms.EnsureFits(algorithm, signer.Algorithm);
        _signer = signer;
        _algorithm = algorithm;
        AlgorithmDetails = SignatureAlgorithms.Identifier(algorithm);
    }

    /// <summary>The signature AlgorithmIdentifier (BouncyCastle reads it as an <see cref="AlgorithmIdentifier"/>).</summary>
    public object AlgorithmDetails { get; }

    /// <inheritdoc />
    public IStreamCalculator<IBlockResult> CreateCalculator() => new Calculator(_signer, _algorithm);

    /// <summary>Buffers the to-be-signed bytes; the HSM is asked only when the result is collected.</summary>
    private sealed class Calculator(IKeySigner signer, SignatureAlgorithm algorithm) : IStreamCalculator<IBlockResult>, IDisposable
    {
        private readonly MemoryStream _buffer = new();

        public Stream Stream => _buffer;

        public void Dispose() => _buffer.Dispose();

        public IBlockResult GetResult()
        {
            // BouncyCastle disposes the stream before collecting; a closed MemoryStream still gives its contents.
            return new SignatureResult(signer.Sign(algorithm, _buffer.ToArray()));
        }
    }

    private sealed class SignatureResult(byte[] signature) : IBlockResult
    {
        public byte[] Collect() => (byte[])signature.Clone();

        public int Collect(byte[] buf, int off)
        {
            ArgumentNullException.ThrowIfNull(buf);
            signature.CopyTo(buf, off);
            return signature.Length;
        }

        public int Collect(Span<byte> output)
        {
            signature.CopyTo(output);
            return signature.Length;
        }

        public int GetMaxResultLength() => signature.Length;
    }
}
