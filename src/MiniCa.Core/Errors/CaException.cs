namespace MiniCa.Core.Errors;

/// <summary>
/// An error with a kind from <see cref="CaErrorKind"/> and a message a person can act on. The message never
/// holds secrets (PINs, key material); edges decide how much of it a remote client may see.
/// </summary>
public sealed class CaException : Exception
{
    /// <summary>Creates an error of <paramref name="kind"/> with an actionable message.</summary>
    public CaException(CaErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>What went wrong, in the shared vocabulary.</summary>
    public CaErrorKind Kind { get; }
}
