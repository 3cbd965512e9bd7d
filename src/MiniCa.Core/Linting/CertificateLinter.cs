using System.Reflection;

namespace MiniCa.Core.Linting;

/// <summary>Runs every lint and collects the findings.</summary>
public sealed class CertificateLinter
{
    /// <summary>Creates a linter over <paramref name="lints"/>.</summary>
    public CertificateLinter(IEnumerable<CertificateLint> lints)
    {
        Lints = lints.OrderBy(l => l.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Every lint in MiniCa.Core.</summary>
    public static CertificateLinter Default { get; } = new(
        typeof(CertificateLint).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(CertificateLint)) && !t.IsAbstract)
            .Select(t => (CertificateLint)Activator.CreateInstance(t, nonPublic: true)!));

    /// <summary>The lints this linter runs.</summary>
    public IReadOnlyList<CertificateLint> Lints { get; }

    /// <summary>Runs every applicable lint; a lint that throws is itself reported as an error.</summary>
    public IReadOnlyList<LintFinding> Run(LintContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var findings = new List<LintFinding>();
        var parsed = TryParse(context, out var parseError);
        foreach (var lint in Lints.Where(l => parsed || !l.RequiresParsedCertificate))
        {
            try
            {
                if (!lint.Applies(context))
                {
                    continue;
                }

                findings.AddRange(lint.Check(context).Select(message => new LintFinding(lint.Name, lint.Severity, lint.Citation, message)));
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or InvalidCastException or FormatException or IOException or TargetInvocationException)
            {
                // A structure so broken that the lint cannot read it is a reason not to sign.
                findings.Add(new LintFinding(lint.Name, LintSeverity.Error, lint.Citation, $"the certificate could not be examined: {ex.Message}"));
            }
        }

        if (!parsed && findings.Count == 0)
        {
            findings.Add(new LintFinding("e_der_invalid", LintSeverity.Error, "RFC 5280 §4.1", $"the certificate cannot be parsed: {parseError}"));
        }

        return findings;
    }

    private static bool TryParse(LintContext context, out string? error)
    {
        try
        {
            _ = context.Certificate.TbsCertificate.Extensions;
            error = null;
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or InvalidCastException or IOException or FormatException or Org.BouncyCastle.Security.Certificates.CertificateException)
        {
            error = ex.Message;
            return false;
        }
    }
}
