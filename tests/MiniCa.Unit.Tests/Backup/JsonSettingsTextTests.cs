using System.Text.Json;
using MiniCa.Hosting;

namespace MiniCa.Unit.Tests.Backup;

/// <summary>
/// Settings changed in a configuration file's text (as <c>minica backup restore</c> changes them): the rest of the
/// file, its comments above all, stays byte for byte, and the result is JSON the configuration loader reads.
/// </summary>
public sealed class JsonSettingsTextTests
{
    private const string Commented = """
        // The CA's configuration (kept by the operators: ticket 4711).
        {
          "DataDirectory": "/srv/ca/data", // on the encrypted volume
          /* Profiles come from the policy repository. */
          "PoliciesDirectory": "/srv/policies",
          "Database": {
            "ConnectionString": "Data Source=/srv/ca/data/minica.db;Default Timeout=20"
          },
          "Backup": {
            "Keep": 14,
            // off-site share
            "Directory": "/mnt/backups"
          }
        }

        """;

    [Fact]
    public void SetString_AnExistingValue_ReplacesOnlyThatValue()
    {
        var settings = new JsonSettingsText(Commented);

        Assert.True(settings.SetString(["database", "connectionstring"], "Data Source=/restored/minica.db"));
        Assert.True(settings.SetString(["DataDirectory"], "data"));

        var expected = Commented
            .Replace("\"Data Source=/srv/ca/data/minica.db;Default Timeout=20\"", "\"Data Source=/restored/minica.db\"", StringComparison.Ordinal)
            .Replace("\"/srv/ca/data\"", "\"data\"", StringComparison.Ordinal);
        Assert.Equal(expected, settings.Text);
        Assert.Equal("Data Source=/restored/minica.db", settings.GetString("Database", "ConnectionString"));
    }

    [Fact]
    public void SetString_TheSameValue_ChangesNothing()
    {
        var settings = new JsonSettingsText(Commented);

        Assert.False(settings.SetString(["PoliciesDirectory"], "/srv/policies"));

        Assert.Equal(Commented, settings.Text);
    }

    [Fact]
    public void SetString_AnAbsentMember_IsAddedAfterTheLastOne_WithItsIndentation_CommentsKept()
    {
        var settings = new JsonSettingsText(Commented);

        Assert.True(settings.SetString(["Backup", "IntervalMinutes"], "60"));
        Assert.True(settings.SetString(["Ocsp", "KeyAlgorithm"], "P-384"));

        Assert.Equal("""
            // The CA's configuration (kept by the operators: ticket 4711).
            {
              "DataDirectory": "/srv/ca/data", // on the encrypted volume
              /* Profiles come from the policy repository. */
              "PoliciesDirectory": "/srv/policies",
              "Database": {
                "ConnectionString": "Data Source=/srv/ca/data/minica.db;Default Timeout=20"
              },
              "Backup": {
                "Keep": 14,
                // off-site share
                "Directory": "/mnt/backups",
                "IntervalMinutes": "60"
              },
              "Ocsp": { "KeyAlgorithm": "P-384" }
            }

            """, settings.Text);
    }

    [Theory]
    [InlineData("{}", """{ "DataDirectory": "d" }""")]
    [InlineData("""{ "A": 1 }""", """{ "A": 1, "DataDirectory": "d" }""")]
    [InlineData("""{ "A": 1, }""", """{ "A": 1, "DataDirectory": "d", }""")]
    [InlineData("{\n  \"A\": 1 // one\n}", "{\n  \"A\": 1, // one\n  \"DataDirectory\": \"d\"\n}")]
    [InlineData("{\n  \"A\": 1,\n}", "{\n  \"A\": 1,\n  \"DataDirectory\": \"d\",\n}")]
    [InlineData("{\r\n  \"A\": 1 // one\r\n}", "{\r\n  \"A\": 1, // one\r\n  \"DataDirectory\": \"d\"\r\n}")]
    public void SetString_AddsToAnyLayout(string before, string after)
    {
        var settings = new JsonSettingsText(before);

        settings.SetString(["DataDirectory"], "d");

        Assert.Equal(after, settings.Text);
        using var parsed = JsonDocument.Parse(settings.Text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        Assert.Equal("d", parsed.RootElement.GetProperty("DataDirectory").GetString());
    }

    [Fact]
    public void Remove_TheLastMember_TakesItsLineAndTheCommaBeforeIt_CommentsStay()
    {
        var settings = new JsonSettingsText(Commented);

        Assert.True(settings.Remove("backup", "DIRECTORY"));

        Assert.Equal(Commented.Replace("\"Keep\": 14,\n    // off-site share\n    \"Directory\": \"/mnt/backups\"\n", "\"Keep\": 14\n    // off-site share\n", StringComparison.Ordinal), settings.Text);
        Assert.Null(settings.GetString("Backup", "Directory"));
        Assert.False(settings.Remove("Backup", "Directory"));
    }

    [Theory]
    [InlineData("{\n  \"A\": 1,\n  \"B\": 2\n}", "{\n  \"B\": 2\n}")]
    [InlineData("""{ "A": 1, "B": 2 }""", """{ "B": 2 }""")]
    [InlineData("""{ "B": 2, "A": 1 }""", """{ "B": 2 }""")]
    [InlineData("""{ "A": 1 }""", """{  }""")]
    [InlineData("{\n  \"A\": { \"x\": [1, 2] }, // the A\n  \"B\": 2\n}", "{\n  \"B\": 2\n}")]
    [InlineData("{\n  \"B\": 2, /* a, b */\n  \"A\": \"1,\"\n}", "{\n  \"B\": 2 /* a, b */\n}")]
    [InlineData("{\n  \"B\": 2, // about B\n  \"A\": 1 // about A\n}", "{\n  \"B\": 2 // about B\n}")]
    [InlineData("{\r\n  \"B\": 2,\r\n  \"A\": 1 // the A\r\n}", "{\r\n  \"B\": 2\r\n}")]
    [InlineData("{\r\n  \"A\": 1, // the A\r\n  \"B\": 2\r\n}", "{\r\n  \"B\": 2\r\n}")]
    public void Remove_LeavesJsonInAnyLayout(string before, string after)
    {
        var settings = new JsonSettingsText(before);

        Assert.True(settings.Remove("A"));

        Assert.Equal(after, settings.Text);
        using var parsed = JsonDocument.Parse(settings.Text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        Assert.False(parsed.RootElement.TryGetProperty("A", out _));
    }

    [Fact]
    public void NotAnObjectOfSettings_IsRefused()
    {
        Assert.ThrowsAny<JsonException>(() => new JsonSettingsText("[1]"));
        Assert.ThrowsAny<JsonException>(() => new JsonSettingsText("{ \"A\": "));
        Assert.ThrowsAny<JsonException>(() => new JsonSettingsText("{} {}"));
        var settings = new JsonSettingsText("""{ "Backup": "daily" }""");
        var refused = Assert.ThrowsAny<JsonException>(() => settings.SetString(["Backup", "Directory"], "/b"));
        Assert.Equal("Backup holds a value, not an object of settings", refused.Message);
    }

    [Fact]
    public void NonAsciiAndEscapes_RoundTrip()
    {
        var settings = new JsonSettingsText("""{ "DataDirectory": "d" }""");

        settings.SetString(["DataDirectory"], "/srv/zertifizierungsstelle-ü/\"q\"\\x");

        Assert.Equal("""{ "DataDirectory": "/srv/zertifizierungsstelle-ü/\"q\"\\x" }""", settings.Text);
        Assert.Equal("/srv/zertifizierungsstelle-ü/\"q\"\\x", settings.GetString("DataDirectory"));
    }

    [Fact]
    public void SetStrings_AnArrayAcrossLines_IsReplacedWhole_CommentsOutsideItKept()
    {
        const string text = """
            {
              // Debian's weak keys, and ours
              "BlockedKeyLists": [
                "/usr/share/openssl-blacklist/blacklist.RSA-2048", // from the package
                "lists/ours.txt"
              ],
              "DataDirectory": "data"
            }
            """;
        var settings = new JsonSettingsText(text);

        Assert.Equal(["/usr/share/openssl-blacklist/blacklist.RSA-2048", "lists/ours.txt"], settings.GetStrings("blockedkeylists")!);
        Assert.True(settings.SetStrings(["BlockedKeyLists"], ["blocked-key-lists/1-blacklist.RSA-2048", "lists/ours.txt"]));

        Assert.Equal("""
            {
              // Debian's weak keys, and ours
              "BlockedKeyLists": [ "blocked-key-lists/1-blacklist.RSA-2048", "lists/ours.txt" ],
              "DataDirectory": "data"
            }
            """, settings.Text);
        Assert.Equal(["blocked-key-lists/1-blacklist.RSA-2048", "lists/ours.txt"], JsonDocument.Parse(settings.Text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip }).RootElement.GetProperty("BlockedKeyLists").EnumerateArray().Select(e => e.GetString()!));
        Assert.False(settings.SetStrings(["BlockedKeyLists"], ["blocked-key-lists/1-blacklist.RSA-2048", "lists/ours.txt"]));
    }

    [Fact]
    public void GetStrings_AbsentOrNotAllStrings_IsNull_AndSetStringsAddsAnAbsentArray()
    {
        var settings = new JsonSettingsText("""{ "A": [ "x", 1 ], "B": "x", "C": [] }""");

        Assert.Null(settings.GetStrings("A"));
        Assert.Null(settings.GetStrings("B"));
        Assert.Null(settings.GetStrings("Missing"));
        Assert.Empty(settings.GetStrings("C")!);
        Assert.True(settings.SetStrings(["D"], ["a \"quoted\" path"]));
        Assert.Equal("""{ "A": [ "x", 1 ], "B": "x", "C": [], "D": [ "a \"quoted\" path" ] }""", settings.Text);
    }
}
