using System.Text.RegularExpressions;
using Microsoft.Playwright;
using MiniCa.TestSupport;

namespace MiniCa.Web.Tests;

/// <summary>Debian's Chromium driven by Playwright, headless, with screenshots kept as test artifacts.</summary>
public sealed partial class BrowserSession : IAsyncDisposable
{
    public const string Chromium = "/usr/bin/chromium";

    /// <summary>Milliseconds the sign-in's navigations and its first live circuit may take (see <see cref="SignInAsync"/>).</summary>
    private const float FirstPageTimeout = 60_000;

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private BrowserSession(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    /// <summary>
    /// Where screenshots go: <c>TestResults/screenshots</c> at the repository root (<c>screenshots-postgres</c> for
    /// the same tests on PostgreSQL, which may run at the same time).
    /// </summary>
    public static string ScreenshotDirectory { get; } =
        Path.Combine(RepositoryPaths.Root, "TestResults", typeof(BrowserSession).Assembly.GetName().Name!.Contains("Postgres", StringComparison.Ordinal) ? "screenshots-postgres" : "screenshots");

    public static async Task<BrowserSession> StartAsync()
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"Chromium is not installed ({Chromium} missing): run 'apt-get install -y chromium' or ./test.sh, which installs it.");
        }

        // On 2 shared cores a Blazor circuit can take a while to connect.
        Assertions.SetDefaultExpectTimeout(15_000);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
        });
        Directory.CreateDirectory(ScreenshotDirectory);
        return new BrowserSession(playwright, browser);
    }

    /// <summary>A fresh browser profile (own cookies) signed in as <paramref name="userName"/>.</summary>
    public async Task<IPage> SignInAsync(Uri baseAddress, string userName, string password, int width = 1366, int height = 900)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString().TrimEnd('/'),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            AcceptDownloads = true,
        });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/account/login", new PageGotoOptions { Timeout = FirstPageTimeout });
        await page.FillAsync("#userName", userName);
        await page.FillAsync("#password", password);
        await page.ClickAsync("button[type=submit]");

        await WaitLeftSignInAsync(page, userName, FirstPageTimeout);
        await WaitInteractiveAsync(page, FirstPageTimeout);
        return page;
    }

    /// <summary>
    /// Waits until <paramref name="page"/> has left the sign-in form (the redirect after a good sign-in), for
    /// <paramref name="timeout"/> ms. The page's URL is polled, and no load event is waited for: a minute may pass
    /// when the first sign-in of a run meets a server still compiling its pages while other test assemblies share
    /// the two cores. Playwright's <c>WaitForURLAsync</c> is not used: when the redirect had already committed by the
    /// time it was called, it waited for the page's "load" state instead, and a clean run of the thirty-second session
    /// timed out there after 60 s with the page network-idle. On a timeout the page is kept as a screenshot and its URL and the form's error
    /// (if any) are in the message.
    /// </summary>
    public static async Task WaitLeftSignInAsync(IPage page, string userName, float timeout = 20_000)
    {
        try
        {
            await Assertions.Expect(page).Not.ToHaveURLAsync(SignInForm(), new PageAssertionsToHaveURLOptions { Timeout = timeout });
        }
        catch (PlaywrightException failure)
        {
            var name = $"sign-in-failed-{userName}-{DateTime.UtcNow:HHmmss}";
            await ScreenshotAsync(page, name);
            var error = page.Locator("[data-testid=login-error]");
            var said = await error.CountAsync() > 0 ? await error.InnerTextAsync() : "no error shown";
            throw new InvalidOperationException($"The sign-in of '{userName}' stayed at {page.Url} ({said}); screenshot {name}.png in {ScreenshotDirectory}.", failure);
        }
    }

    [GeneratedRegex("/account/login")]
    private static partial Regex SignInForm();

    /// <summary>Waits until the Blazor circuit is live (clicks before that are lost), for the default assertion timeout unless <paramref name="timeout"/> (ms) is given.</summary>
    public static Task WaitInteractiveAsync(IPage page, float? timeout = null) =>
        Assertions.Expect(page.Locator("#interactive-marker[data-interactive=true]")).ToBeAttachedAsync(new LocatorAssertionsToBeAttachedOptions { Timeout = timeout });

    /// <summary>Goes to <paramref name="path"/> and waits for the circuit.</summary>
    public static async Task GoAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        await WaitInteractiveAsync(page);
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = true });

    /// <summary>Opens a MudSelect and picks the option with <paramref name="text"/>.</summary>
    public static async Task ChooseAsync(IPage page, ILocator select, string text)
    {
        await select.ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item").Filter(new LocatorFilterOptions { HasText = text }).First.ClickAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
