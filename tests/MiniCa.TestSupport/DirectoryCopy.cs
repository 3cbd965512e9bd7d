namespace MiniCa.TestSupport;

/// <summary>Copies a folder's files, as an operator's <c>cp -r</c> would (for restore and move scenarios).</summary>
public static class DirectoryCopy
{
    /// <summary>Copies every file under <paramref name="source"/> to the same relative path under <paramref name="target"/>.</summary>
    public static void Copy(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
    }
}
