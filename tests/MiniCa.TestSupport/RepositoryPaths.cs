namespace MiniCa.TestSupport;

/// <summary>Where the repository and the built MiniCa programs are, seen from a test assembly.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The configuration the tests were built with (Debug or Release), read from the test's own path.</summary>
    public static string Configuration { get; } =
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    public static string CliAssembly => Built("src/MiniCa.Cli", "minica.dll");

    public static string WebAssembly => Built("web/MiniCa.Web", "MiniCa.Web.dll");

    /// <summary>A CA process issuing under load until killed (the crash tests').</summary>
    public static string LoadDriverAssembly => Built("tests/MiniCa.LoadDriver", "MiniCa.LoadDriver.dll");

    private static string Built(string project, string assembly)
    {
        var path = Path.Combine(Root, project, "bin", Configuration, "net10.0", assembly);
        return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is not built; build MiniCa.sln first (./test.sh does).");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MiniCa.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("MiniCa.sln not found above " + AppContext.BaseDirectory);
    }
}
