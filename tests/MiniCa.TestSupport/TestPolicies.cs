namespace MiniCa.TestSupport;

/// <summary>The shipped profiles plus one that needs two officers, in a test's own <c>policies</c> folder.</summary>
public static class TestPolicies
{
    /// <summary>The name of the profile that needs two distinct officers.</summary>
    public const string TwoOfficers = "two-officers";

    /// <summary>Copies <c>policies/</c> into <paramref name="directory"/>/policies, adds <see cref="TwoOfficers"/>, and returns the folder.</summary>
    public static string Prepare(string directory)
    {
        var policies = Path.Combine(directory, "policies");
        Directory.CreateDirectory(policies);
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "policies")))
        {
            File.Copy(file, Path.Combine(policies, Path.GetFileName(file)));
        }

        File.WriteAllText(Path.Combine(policies, TwoOfficers + ".json"), """
            {
              "description": "TLS server names that need two officers",
              "keyUsage": [ "digitalSignature", "keyEncipherment" ],
              "extendedKeyUsage": [ "serverAuth" ],
              "identifiers": { "dns": { "allowed": true, "internalNames": true } },
              "approval": { "mode": "manual", "approvers": 2 }
            }
            """);
        return policies;
    }
}
