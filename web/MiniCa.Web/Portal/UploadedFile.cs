using Microsoft.AspNetCore.Components.Forms;
using MiniCa.Core.Errors;

namespace MiniCa.Web.Portal;

/// <summary>A file chosen in a portal form, read whole up to a limit.</summary>
internal static class UploadedFile
{
    /// <summary>The bytes of <paramref name="file"/>; Malformed, naming it, when it is larger than <paramref name="maxBytes"/>.</summary>
    /// <param name="file">The chosen file.</param>
    /// <param name="maxBytes">The largest size accepted.</param>
    /// <param name="what">What the file should hold, for the message ("a CSR").</param>
    public static async Task<byte[]> ReadAsync(IBrowserFile file, int maxBytes, string what)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.Size > maxBytes)
        {
            throw new CaException(CaErrorKind.Malformed, $"'{file.Name}' is {file.Size:N0} bytes; {what} is at most {maxBytes:N0} bytes.");
        }

        using var buffer = new MemoryStream();
        await using (var stream = file.OpenReadStream(maxBytes))
        {
            await stream.CopyToAsync(buffer);
        }

        return buffer.ToArray();
    }
}
