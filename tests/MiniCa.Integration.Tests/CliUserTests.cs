using System.Net;
using System.Text.RegularExpressions;
using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary><c>minica user add</c>: the account it makes signs in to the running portal with its roles.</summary>
public sealed partial class CliUserTests
{
    [Fact]
    public async Task UserAdd_GeneratedPassword_SignsInToThePortal()
    {
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-cli-user");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");
        var environment = new Dictionary<string, string?> { ["MINICA_USER_PASSWORD"] = null };
        var added = await Minica.RunAsync(directory.Path, ["user", "add", "--name", "carol", "--role", "officer", "--role", "Auditor"], environment);
        Assert.True(added.ExitCode == 0, added.Combined);
        Assert.Contains("Created user 'carol' (Officer, Auditor)", added.StandardOutput, StringComparison.Ordinal);
        var password = PasswordLine().Match(added.StandardOutput).Groups[1].Value;
        Assert.Equal(24, password.Length);

        var twice = await Minica.RunAsync(directory.Path, ["user", "add", "--name", "carol", "--role", "officer"], environment);
        Assert.Equal(1, twice.ExitCode);
        Assert.Contains("already exists", twice.StandardError, StringComparison.Ordinal);
        var badRole = await Minica.RunAsync(directory.Path, ["user", "add", "--name", "dave", "--role", "root"], environment);
        Assert.Equal(1, badRole.ExitCode);
        Assert.Contains("'root' is not a role", badRole.StandardError, StringComparison.Ordinal);

        var list = await Minica.RunAsync(directory.Path, ["user", "list"]);
        Assert.Contains("carol", list.StandardOutput, StringComparison.Ordinal);

        await using var host = WebHostProcess.Start(directory.Path, FreePort.Next());
        await host.WaitUntilHealthyAsync();
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var client = new HttpClient(handler) { BaseAddress = host.Client.BaseAddress };
        var page = await client.GetStringAsync("/account/login");
        var token = WebUtility.HtmlDecode(AntiforgeryToken().Match(page).Groups[1].Value);
        using var signIn = await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["userName"] = "carol",
            ["password"] = password,
            ["returnUrl"] = "/approvals",
        }));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/approvals", signIn.Headers.Location!.OriginalString);
        using var queue = await client.GetAsync("/approvals");
        Assert.Equal(HttpStatusCode.OK, queue.StatusCode);
        using var users = await client.GetAsync("/users");
        Assert.Equal(HttpStatusCode.Redirect, users.StatusCode);
        Assert.StartsWith("/account/denied", users.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"Password \(shown once\): (\S+)")]
    private static partial Regex PasswordLine();

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    internal static partial Regex AntiforgeryToken();
}
