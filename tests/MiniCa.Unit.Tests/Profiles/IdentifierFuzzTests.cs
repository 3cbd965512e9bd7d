using System.Text;
using MiniCa.Core.Identifiers;
using MiniCa.Core.Profiles;
using MiniCa.TestSupport;

namespace MiniCa.Unit.Tests.Profiles;

/// <summary>
/// Mutation fuzzing of identifier checks, which see names straight from ACME's newOrder (any JSON string) and from
/// CSRs: DNS syntax with IDNA A-labels and wildcards, internal names, and every shipped profile's rules for DNS, IP,
/// email and URI identifiers. Each must answer with problems or none, never an exception.
/// </summary>
public sealed class IdentifierFuzzTests
{
    [Fact]
    public void CheckIdentifiers_MutatedNames_AnAnswerForEach()
    {
        var profiles = ProfileLoader.LoadDirectory(Path.Combine(RepositoryPaths.Root, "policies")).All.ToArray();
        var seeds = new[]
        {
            "www.example.com", "*.api.example.com", "xn--bcher-kva.example", "xn--nxasmq6b.xn--jxalpdlp", "a-b.c-d.internal",
            "localhost", "192.0.2.10", "2001:db8::1", "::ffff:10.0.0.1", "ops@example.com", "\"odd user\"@[192.0.2.1]",
            "https://example.com/alice?x=1#y", "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
        }.Select(Encoding.UTF8.GetBytes).ToArray();
        var types = Enum.GetValues<IdentifierType>();
        var random = Mutator.Random(2032);
        var failures = new FuzzFailures();
        var refused = 0;
        for (var round = 0; round < Mutator.Rounds; round++)
        {
            var input = Mutator.Mutate(seeds[random.Next(seeds.Length)], seeds, random, most: 3);
            var name = Encoding.UTF8.GetString(input);
            failures.Check(input, () =>
            {
                refused += DnsNames.Validate(name, allowWildcard: random.Next(2) == 0).Count > 0 ? 1 : 0;
                _ = DnsNames.IsInternal(name);
                var profile = profiles[random.Next(profiles.Length)];
                var identifier = new Identifier(types[random.Next(types.Length)], name);
                Assert.Single(ProfilePolicy.CheckIdentifiers(profile, [identifier]));
            });
        }

        Assert.True(failures.Summary is null, failures.Summary);
        Assert.True(refused > Mutator.Rounds / 4, $"only {refused} of {Mutator.Rounds} mutated names refused as DNS names");
    }
}
