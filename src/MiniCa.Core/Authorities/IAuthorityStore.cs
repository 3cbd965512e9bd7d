namespace MiniCa.Core.Authorities;

/// <summary>Reads the recorded CA certificates.</summary>
public interface IAuthorityReader
{
    /// <summary>Every recorded authority certificate, pending or active.</summary>
    Task<IReadOnlyList<AuthorityCertificate>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>The active certificate of the authority called <paramref name="name"/>, if any.</summary>
    Task<AuthorityCertificate?> FindActiveAsync(string name, CancellationToken cancellationToken = default);
}

/// <summary>
/// Records CA certificates: first the key about to be generated, then what is about to be signed, then the signed
/// result.
/// </summary>
public interface IAuthorityStore : IAuthorityReader
{
    /// <summary>
    /// Records (with an audit event) that the key of an authority is about to be generated in the HSM with the
    /// identifier <see cref="KeyGeneration.KeyId"/>, so that a ceremony interrupted before the key's certificate is
    /// recorded can tell that key from any other.
    /// </summary>
    Task RecordKeyGenerationAsync(KeyGeneration generation, CancellationToken cancellationToken = default);

    /// <summary>The latest key generation recorded for authority <paramref name="name"/>, if any.</summary>
    Task<KeyGeneration?> FindKeyGenerationAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Records a pending certificate before its TBS bytes reach the HSM. Fails if the serial is taken.</summary>
    Task ReserveAsync(AuthorityCertificate pending, CancellationToken cancellationToken = default);

    /// <summary>Stores the signed certificate of a pending record and makes it active.</summary>
    Task ActivateAsync(string name, byte[] certificateDer, CancellationToken cancellationToken = default);
}
