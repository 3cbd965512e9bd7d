using System.Reflection;
using System.Text.Json;
using MiniCa.Core.Errors;
using MiniCa.Core.Profiles;
using MiniCa.TestSupport;
using MiniCa.Unit.Tests.Requests;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Unit.Tests.Profiles;

public sealed class ProfileTests
{
    private static readonly string Policies = Path.Combine(RepositoryPaths.Root, "policies");

    private static CertificateProfile Shipped(string name) => ProfileLoader.LoadDirectory(Policies).Get(name);

    private static List<string> Problems(string json)
    {
        var problems = new List<string>();
        ProfileLoader.Parse("/p/test.json", json, problems);
        return problems;
    }

    [Fact]
    public void LoadDirectory_ShippedProfiles_AllLoad()
    {
        var catalog = ProfileLoader.LoadDirectory(Policies);

        Assert.Equal(["code-signing", "email", "ocsp-signing", "tls-client", "tls-server"], catalog.All.Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.True(catalog.Get("code-signing").Approval.IsManual);
        Assert.True(catalog.Get("ocsp-signing").OcspNoCheck);
        Assert.True(catalog.Get("tls-server").Acme);
    }

    [Fact]
    public void Get_UnknownProfile_ListsTheKnownOnes()
    {
        var error = Assert.Throws<CaException>(() => ProfileLoader.LoadDirectory(Policies).Get("nope"));

        Assert.Equal("There is no profile 'nope'; profiles: code-signing, email, ocsp-signing, tls-client, tls-server.", error.Message);
    }

    [Fact]
    public void Parse_UnknownField_NamesFileFieldAndLine()
    {
        var problems = Problems("""
            {
              "description": "x",
              "keyUsage": ["digitalSignature"],
              "identifiers": { "dns": { "allowed": true, "alow": ["*"] } }
            }
            """);

        Assert.Equal(["/p/test.json: identifiers.dns.alow: unknown field (line 4)"], problems);
    }

    [Fact]
    public void Parse_WrongType_NamesTheField()
    {
        var problems = Problems("""{ "description": "x", "keyUsage": ["digitalSignature"], "validity": { "maxDays": "ninety" } }""");

        Assert.Single(problems);
        Assert.StartsWith("/p/test.json: validity.maxDays: ", problems[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadValues_AreAllReported()
    {
        var problems = Problems("""
            {
              "description": "",
              "validity": { "maxDays": 0, "backdateMinutes": 5000 },
              "keys": { "rsa": { "minBits": 1024 }, "ecCurves": ["secp256k1"] },
              "keyUsage": ["digitalSignature", "signEverything", "keyCertSign"],
              "extendedKeyUsage": ["serverAuth", "2.5.29.37.0", "bogus"],
              "identifiers": { "dns": { "allowed": true, "allow": ["*.*.example.com"] }, "ip": { "allowed": true, "allow": ["10.0.0.0/33"] }, "maxCount": 0 },
              "subject": { "commonName": "random", "fixed": { "CN": "x", "XX": "y" } },
              "ocspNoCheck": true,
              "approval": { "mode": "manual", "approvers": 0 }
            }
            """);

        foreach (var expected in new[]
        {
            "description: is required",
            "validity.maxDays: 0 is out of range",
            "validity.backdateMinutes: 5000 is out of range",
            "keys.rsa.minBits: 1024 is below 2048 (BR §6.1.5)",
            "keys.ecCurves: 'secp256k1' is not P-256, P-384 or P-521",
            "keyUsage: 'signEverything' is not one of",
            "keyUsage: 'keyCertSign' is for CA certificates",
            "extendedKeyUsage: anyExtendedKeyUsage is not allowed (BR §7.1.2.7.10)",
            "extendedKeyUsage: 'bogus' is neither",
            "identifiers: '*.*.example.com' is not a name pattern",
            "identifiers.ip: '10.0.0.0/33' is not a CIDR network",
            "identifiers.maxCount: 0 is out of range",
            "subject.commonName: 'random' is not one of",
            "subject.fixed: 'CN' is not a subject attribute",
            "subject.fixed: 'XX' is not a subject attribute",
            "ocspNoCheck: only for profiles with the OCSPSigning extended key usage",
            "approval.approvers: 0 is out of range",
        })
        {
            Assert.Contains(problems, p => p.StartsWith("/p/test.json: ", StringComparison.Ordinal) && p.Contains(expected, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void LoadDirectory_BadProfile_FailsTheStartNamingTheFile()
    {
        using var directory = new TempDirectory("minica-profiles");
        File.WriteAllText(directory.Combine("broken.json"), """{ "description": "x", "keyUsage": [], "colour": "red" }""");

        var error = Assert.Throws<CaException>(() => ProfileLoader.LoadDirectory(directory.Path));

        Assert.Equal(CaErrorKind.Configuration, error.Kind);
        Assert.Contains(directory.Combine("broken.json") + ": colour: unknown field", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Schema_DescribesExactlyTheModelsFields()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(Policies, "profile.schema.json")));

        AssertSameFields(schema.RootElement, typeof(CertificateProfile), "$");
    }

    private static void AssertSameFields(JsonElement schema, Type type, string path)
    {
        var properties = schema.GetProperty("properties");
        var model = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.GetCustomAttribute<System.Text.Json.Serialization.JsonIgnoreAttribute>() is null)
            .ToDictionary(p => p.GetCustomAttribute<System.Text.Json.Serialization.JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(p.Name));
        Assert.Equal(model.Keys.Order(StringComparer.Ordinal), properties.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.False(schema.GetProperty("additionalProperties").GetBoolean(), $"{path} must refuse unknown fields");
        foreach (var (name, property) in model)
        {
            var child = properties.GetProperty(name);
            if (property.PropertyType.IsClass && property.PropertyType.Namespace == typeof(CertificateProfile).Namespace && child.TryGetProperty("properties", out _))
            {
                AssertSameFields(child, property.PropertyType, $"{path}.{name}");
            }
        }
    }

    [Fact]
    public void Evaluate_TlsServer_AcceptsNamesAndTakesCnFromTheFirst()
    {
        var csr = CsrParser(Csrs.Dns("www.example.com", "api.example.com"));

        var decision = ProfilePolicy.Evaluate(Shipped("tls-server"), csr);

        Assert.True(decision.IsAllowed, string.Join("; ", decision.Problems));
        Assert.Equal("www.example.com", decision.CommonName);
        Assert.Equal(2, decision.Identifiers.Count);
    }

    [Fact]
    public void Evaluate_CnOnlyRequest_CertifiesTheCnAsAName()
    {
        var decision = ProfilePolicy.Evaluate(Shipped("tls-server"), CsrParser(Csrs.Der("CN=legacy.example.com")));

        Assert.True(decision.IsAllowed, string.Join("; ", decision.Problems));
        Assert.Equal(["dns:legacy.example.com"], decision.Identifiers.Select(i => i.ToString()));
    }

    [Fact]
    public void Evaluate_DisallowedIdentifiers_AreEachReported()
    {
        var csr = CsrParser(Csrs.Der("CN=www.example.com", [
            new GeneralName(GeneralName.DnsName, "www.example.com"),
            new GeneralName(GeneralName.IPAddress, "8.8.8.8"),
            new GeneralName(GeneralName.Rfc822Name, "a@example.com"),
            new GeneralName(GeneralName.DnsName, "bad_name.example.com"),
        ]));

        var problems = ProfilePolicy.Evaluate(Shipped("tls-server"), csr).Problems;

        Assert.Contains("ip:8.8.8.8: is not in the networks profile 'tls-server' allows", problems);
        Assert.Contains("email:a@example.com: email addresses are not allowed by profile 'tls-server'", problems);
        Assert.Contains(problems, p => p.StartsWith("dns:bad_name.example.com: label 'bad_name' contains an underscore", StringComparison.Ordinal));
    }

    [Fact]
    public void Evaluate_InternalNameUnderStrictProfile_IsRefused()
    {
        var strict = MiniCa.Unit.Tests.Linting.CertificateFixtures.TlsServer;

        var problems = ProfilePolicy.Evaluate(strict, CsrParser(Csrs.Dns("printer.local"))).Problems;

        Assert.Contains("dns:printer.local: is an internal name, which profile 'lint-tls-server' does not allow (BR §7.1.4.2.1)", problems);
    }

    [Fact]
    public void Evaluate_CodeSigningWithSmallRsa_IsRefusedByTheProfile()
    {
        var decision = ProfilePolicy.Evaluate(Shipped("code-signing"), CsrParser(Csrs.Der("CN=Build Server", key: Csrs.Rsa(2048))));

        Assert.Contains("the RSA key has 2048 bits; this profile accepts 3072..8192", decision.Problems);
        Assert.Equal("Build Server", decision.CommonName);
    }

    [Fact]
    public void Evaluate_NoIdentifiersWhereRequired_IsRefused()
    {
        var decision = ProfilePolicy.Evaluate(Shipped("email"), CsrParser(Csrs.Der("O=No Names")));

        Assert.Contains("profile 'email' requires at least one identifier (a subjectAltName or a CN that names one)", decision.Problems);
    }

    private static MiniCa.Core.Requests.ParsedCsr CsrParser(byte[] der)
    {
        var result = MiniCa.Core.Requests.CsrParser.Parse(der);
        Assert.True(result.IsValid, string.Join("; ", result.Problems));
        return result.Csr!;
    }
}
