namespace MiniCa.TestSupport;

/// <summary>
/// Finds the external programs and modules tests rely on. A missing one fails the test with what to install;
/// tests are never skipped (CI must not go green by not testing).
/// </summary>
public static class Prerequisites
{
    public const string SoftHsmModule = "/usr/lib/softhsm/libsofthsm2.so";

    public static string RequireSoftHsm()
    {
        if (!File.Exists(SoftHsmModule))
        {
            throw new InvalidOperationException($"SoftHSM2 is not installed ({SoftHsmModule} missing): run 'apt-get install -y softhsm2' or ./test.sh, which installs it.");
        }

        return SoftHsmModule;
    }

    /// <summary>The absolute path of <paramref name="program"/> on PATH, or a failure naming its Debian package.</summary>
    public static string RequireProgram(string program, string debianPackage)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);
        return path ?? throw new InvalidOperationException($"'{program}' is not installed: run 'apt-get install -y {debianPackage}' or ./test.sh, which installs it.");
    }
}
