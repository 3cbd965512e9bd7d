namespace MiniCa.Core.Linting;

/// <summary>How bad a finding is: errors stop issuance, warnings are recorded.</summary>
public enum LintSeverity
{
    /// <summary>Recorded; issuance goes on.</summary>
    Warning,

    /// <summary>Issuance stops.</summary>
    Error,
}

/// <summary>One problem a lint found.</summary>
/// <param name="Lint">The lint's name (<c>e_…</c> or <c>w_…</c>).</param>
/// <param name="Severity">Error or warning.</param>
/// <param name="Citation">The rule, e.g. <c>RFC 5280 §4.2.1.1</c>.</param>
/// <param name="Message">What is wrong with this certificate.</param>
public sealed record LintFinding(string Lint, LintSeverity Severity, string Citation, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{Lint}: {Message} ({Citation})";
}

/// <summary>
/// One rule about certificates. Names start with <c>e_</c> (an error: issuance stops) or <c>w_</c> (a warning);
/// each cites the rule it checks. Lints are small, independent and tested one by one on fixtures.
/// </summary>
public abstract class CertificateLint
{
    /// <summary>The lint's name, e.g. <c>e_aki_missing</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The rule checked, e.g. <c>RFC 5280 §4.2.1.1</c>.</summary>
    public abstract string Citation { get; }

    /// <summary>Errors for <c>e_</c> lints, warnings for <c>w_</c> lints.</summary>
    public LintSeverity Severity => Name.StartsWith("e_", StringComparison.Ordinal) ? LintSeverity.Error : LintSeverity.Warning;

    /// <summary>
    /// Whether the lint needs the parsed certificate. Lints of the raw encoding (e.g. duplicate extensions, which
    /// BouncyCastle refuses to parse) say no and still run when parsing fails.
    /// </summary>
    public virtual bool RequiresParsedCertificate => true;

    /// <summary>Whether the lint applies to this certificate at all (e.g. only to CAs).</summary>
    public virtual bool Applies(LintContext context) => true;

    /// <summary>Messages describing each violation; none when the certificate follows the rule.</summary>
    public abstract IEnumerable<string> Check(LintContext context);
}
