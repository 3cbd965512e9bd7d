using MiniCa.Core.Requests;

namespace MiniCa.Unit.Tests.Requests;

/// <summary>Control characters of a request's text are escaped as RFC 4514 hex pairs of their UTF-8 octets before they are stored or logged.</summary>
public sealed class ControlCharactersTests
{
    [Theory]
    [InlineData("CN=host.example.com", "CN=host.example.com")]
    [InlineData("CN=a\0b", "CN=a\\00b")]
    [InlineData("CN=line\nfeed\r", "CN=line\\0Afeed\\0D")]
    [InlineData("CN=del\u007f", "CN=del\\7F")]
    [InlineData("CN=next\u0085line", "CN=next\\C2\\85line")]
    [InlineData("CN=Zoë\\, Ltd", "CN=Zoë\\, Ltd")]
    public void Escape_ControlCharactersOnly(string text, string expected) =>
        Assert.Equal(expected, ControlCharacters.Escape(text));

    [Fact]
    public void Escape_NothingToEscape_SameString()
    {
        var text = "CN=plain";
        Assert.Same(text, ControlCharacters.Escape(text));
    }
}
