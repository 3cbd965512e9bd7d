using MiniCa.Core.Errors;

namespace MiniCa.Hsm;

/// <summary>
/// Reads a PIN from where the configuration says: <c>env:NAME</c> (an environment variable) or <c>file:PATH</c>
/// (the first line of a file, relative paths against <c>baseDirectory</c>). A PIN is never in the configuration.
/// </summary>
public static class PinSource
{
    /// <summary>Resolves <paramref name="source"/> to the PIN (or other secret) it points at.</summary>
    /// <param name="source"><c>env:NAME</c> or <c>file:PATH</c>.</param>
    /// <param name="baseDirectory">What a relative path is relative to.</param>
    /// <param name="what">How messages name the source (the configuration field).</param>
    /// <exception cref="CaException">The source is malformed, the variable is unset or the file is unreadable.</exception>
    public static string Resolve(string source, string baseDirectory, string what = "PIN source")
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.StartsWith("env:", StringComparison.Ordinal))
        {
            var name = source[4..];
            var value = Environment.GetEnvironmentVariable(name);
            return string.IsNullOrEmpty(value)
                ? throw new CaException(CaErrorKind.Configuration, $"{what} '{source}': environment variable {name} is not set.")
                : value;
        }

        if (source.StartsWith("file:", StringComparison.Ordinal))
        {
            var path = Path.GetFullPath(source[5..], baseDirectory);
            try
            {
                var pin = File.ReadLines(path).FirstOrDefault()?.Trim();
                return string.IsNullOrEmpty(pin)
                    ? throw new CaException(CaErrorKind.Configuration, $"{what} '{source}': {path} is empty.")
                    : pin;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CaException(CaErrorKind.Configuration, $"{what} '{source}': cannot read {path} ({ex.GetType().Name}).", ex);
            }
        }

        throw new CaException(CaErrorKind.Configuration, $"{what} '{source}' must be 'env:NAME' or 'file:PATH'.");
    }
}
