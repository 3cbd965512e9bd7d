using MiniCa.Core.Profiles;
using MiniCa.Core.Requests;
using MiniCa.TestSupport;
using MiniCa.Unit.Tests.Requests;

namespace MiniCa.Unit.Tests.Profiles;

/// <summary>
/// Mutation fuzzing of certificate profiles (policies/*.json): each mutated profile loads, or is refused with problems
/// that name its file; nothing else may escape, as a start would end in a stack trace. A mutated profile that still
/// loads passed the validator, so evaluating a CSR under it must not fail either.
/// </summary>
public sealed class ProfileFuzzTests
{
    [Fact]
    public void Parse_MutatedProfiles_LoadOrNameTheFile_AndWhatLoadsEvaluates()
    {
        var files = Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "policies"), "*.json").Where(f => !f.EndsWith(".schema.json", StringComparison.Ordinal)).ToArray();
        var seeds = files.Select(File.ReadAllBytes).ToArray();
        var csr = CsrParser.Parse(Csrs.Der("CN=www.example.com,O=Example", [
            new Org.BouncyCastle.Asn1.X509.GeneralName(Org.BouncyCastle.Asn1.X509.GeneralName.DnsName, "www.example.com"),
            new Org.BouncyCastle.Asn1.X509.GeneralName(Org.BouncyCastle.Asn1.X509.GeneralName.Rfc822Name, "ops@example.com"),
        ])).Csr!;
        var random = Mutator.Random(2031);
        var failures = new FuzzFailures();
        var (loaded, refused) = (0, 0);
        for (var round = 0; round < Mutator.Rounds; round++)
        {
            var which = random.Next(seeds.Length);
            var input = Mutator.Mutate(seeds[which], seeds, random, most: 2);
            failures.Check(input, () =>
            {
                var problems = new List<string>();
                var profile = ProfileLoader.Parse(files[which], System.Text.Encoding.UTF8.GetString(input), problems);
                if (profile is null || problems.Count > 0)
                {
                    Assert.NotEmpty(problems);
                    Assert.All(problems, p => Assert.Contains(Path.GetFileName(files[which]), p, StringComparison.Ordinal));
                    refused++;
                    return;
                }

                _ = ProfilePolicy.Evaluate(profile, csr);
                loaded++;
            });
        }

        Assert.True(failures.Summary is null, failures.Summary);
        Assert.True(loaded > 0 && refused > Mutator.Rounds / 4, $"{loaded} loaded, {refused} refused of {Mutator.Rounds}");
    }
}
