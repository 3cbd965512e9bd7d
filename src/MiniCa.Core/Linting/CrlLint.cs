using System.Reflection;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.X509;

namespace MiniCa.Core.Linting;

/// <summary>What a CRL lint looks at.</summary>
public sealed class CrlLintContext
{
    private X509Crl? _crl;

    /// <summary>The DER CertificateList (signed with a throw-away key before the HSM signs it).</summary>
    public required byte[] Der { get; init; }

    /// <summary>The issuing CA's certificate.</summary>
    public required X509Certificate Issuer { get; init; }

    /// <summary>The parsed CRL.</summary>
    public X509Crl Crl => _crl ??= new X509Crl(Org.BouncyCastle.Asn1.X509.CertificateList.GetInstance(Asn1Object.FromByteArray(Der)));
}

/// <summary>One rule about CRLs, named and cited like <see cref="CertificateLint"/>.</summary>
public abstract class CrlLint
{
    /// <summary>The lint's name (<c>e_crl_…</c> or <c>w_crl_…</c>).</summary>
    public abstract string Name { get; }

    /// <summary>The rule checked.</summary>
    public abstract string Citation { get; }

    /// <summary>Errors for <c>e_</c> lints, warnings for <c>w_</c> lints.</summary>
    public LintSeverity Severity => Name.StartsWith("e_", StringComparison.Ordinal) ? LintSeverity.Error : LintSeverity.Warning;

    /// <summary>Messages describing each violation.</summary>
    public abstract IEnumerable<string> Check(CrlLintContext context);
}

/// <summary>Runs every CRL lint.</summary>
public sealed class CrlLinter(IEnumerable<CrlLint> lints)
{
    /// <summary>Every CRL lint in MiniCa.Core.</summary>
    public static CrlLinter Default { get; } = new(
        typeof(CrlLint).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(CrlLint)) && !t.IsAbstract)
            .Select(t => (CrlLint)Activator.CreateInstance(t, nonPublic: true)!));

    /// <summary>The lints this linter runs.</summary>
    public IReadOnlyList<CrlLint> Lints { get; } = lints.OrderBy(l => l.Name, StringComparer.Ordinal).ToList();

    /// <summary>Runs every lint; one that cannot read the CRL reports an error.</summary>
    public IReadOnlyList<LintFinding> Run(CrlLintContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var findings = new List<LintFinding>();
        foreach (var lint in Lints)
        {
            try
            {
                findings.AddRange(lint.Check(context).Select(m => new LintFinding(lint.Name, lint.Severity, lint.Citation, m)));
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or InvalidCastException or IOException or TargetInvocationException)
            {
                findings.Add(new LintFinding(lint.Name, LintSeverity.Error, lint.Citation, $"the CRL could not be examined: {ex.Message}"));
            }
        }

        return findings;
    }
}
