using System.Security.Claims;
using System.Text;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Authority.Issuance;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Core.Profiles;
using MiniCa.Data.Queries;
using MiniCa.Hosting.Users;
using MiniCa.TestSupport;
using MiniCa.Web.Components.Pages.Approvals;
using MiniCa.Web.Components.Pages.Certificates;
using MiniCa.Web.Components.Pages.Requests;
using MiniCa.Web.Components.Shared;
using MiniCa.Web.Portal;
using MudBlazor;
using MudBlazor.Services;

namespace MiniCa.Web.Tests;

/// <summary>bUnit tests of the components with logic, over the real services of the running fixture.</summary>
[Collection(PortalCollection.Name)]
public sealed class ComponentTests(PortalFixture fixture) : IAsyncLifetime, IDisposable
{
    private readonly BunitContext _context = new();

    public Task InitializeAsync()
    {
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
        _context.Services.AddMudServices();
        _context.Services.AddSingleton(ProfileLoader.LoadDirectory(Path.Combine(RepositoryPaths.Root, "policies")));
        _context.Services.AddSingleton(fixture.Services.GetRequiredService<MiniCa.Core.Requests.BlockedKeyLists>());
        _context.Services.AddSingleton(fixture.Services.GetRequiredService<RequestService>());
        _context.Services.AddSingleton(fixture.Services.GetRequiredService<CertificateService>());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _context.DisposeAsync();

    public void Dispose() => _context.Dispose();

    [Fact]
    public void CsrPreview_GoodCsr_ShowsNamesKeyAndNoProblem()
    {
        var panel = _context.Render<CsrPreviewPanel>(p => p
            .Add(c => c.ProfileName, "tls-server")
            .Add(c => c.Csr, Encoding.ASCII.GetBytes(PortalFixture.CsrPem("preview.example.com", "alt.example.com"))));
        panel.WaitForElement("[data-testid=preview-ok]");
        Assert.Contains("dns:alt.example.com", panel.Find("[data-testid=preview-identifiers]").TextContent, StringComparison.Ordinal);
        Assert.Equal("EC P-256", panel.Find("[data-testid=preview-key]").TextContent);
        Assert.NotNull(panel.Find("[data-testid=preview-ok]"));
        Assert.Empty(panel.FindAll("[data-testid=preview-problems]"));
    }

    [Fact]
    public void CsrPreview_Garbage_ListsTheProblemInline()
    {
        var panel = _context.Render<CsrPreviewPanel>(p => p
            .Add(c => c.ProfileName, "tls-server")
            .Add(c => c.Csr, Encoding.ASCII.GetBytes("-----BEGIN CERTIFICATE REQUEST-----\nnot base64 at all\n-----END CERTIFICATE REQUEST-----")));
        panel.WaitForElement("[data-testid=preview-problems]");
        Assert.Single(panel.FindAll("[data-testid=preview-problems]"));
        Assert.Empty(panel.FindAll("[data-testid=preview-ok]"));
    }

    [Fact]
    public void CsrPreview_NameTheProfileRefuses_SaysWhy()
    {
        // The email profile takes no DNS names.
        var panel = _context.Render<CsrPreviewPanel>(p => p
            .Add(c => c.ProfileName, "email")
            .Add(c => c.Csr, Encoding.ASCII.GetBytes(PortalFixture.CsrPem("host.example.com"))));
        var problems = panel.WaitForElement("[data-testid=preview-problems]").TextContent;
        Assert.Contains("dns", problems, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void CsrPreview_NameTheIssuingCaMayNotCertify_SaysWhyInTheSubmissionsWords()
    {
        // The fixture's issuing CA excludes dns:excluded.example.com from what it may certify (RFC 5280 §4.2.1.10):
        // the preview refuses a name under it before submission, as the submission would.
        var panel = _context.Render<CsrPreviewPanel>(p => p
            .Add(c => c.ProfileName, "tls-server")
            .Add(c => c.Csr, Encoding.ASCII.GetBytes(PortalFixture.CsrPem("www." + PortalFixture.ExcludedDomain, "fine.example.com"))));
        var problems = panel.WaitForElement("[data-testid=preview-problems]").TextContent;
        Assert.Contains($"dns:www.{PortalFixture.ExcludedDomain} is within the issuer's excluded subtrees (dns:{PortalFixture.ExcludedDomain})", problems, StringComparison.Ordinal);
        Assert.DoesNotContain("fine.example.com", problems, StringComparison.Ordinal);
        Assert.Contains("1 problem(s)", problems, StringComparison.Ordinal);
    }

    [Fact]
    public void CsrPreview_ProfileChanges_Reevaluates()
    {
        var csr = Encoding.ASCII.GetBytes(PortalFixture.CsrPem("switch.example.com"));
        var panel = _context.Render<CsrPreviewPanel>(p => p.Add(c => c.ProfileName, "tls-server").Add(c => c.Csr, csr));
        Assert.NotNull(panel.WaitForElement("[data-testid=preview-ok]"));
        panel.Render(p => p.Add(c => c.ProfileName, "email").Add(c => c.Csr, csr));
        Assert.NotNull(panel.WaitForElement("[data-testid=preview-problems]"));
    }

    [Fact]
    public async Task ApprovalPanel_OwnRequest_OffersNoDecision()
    {
        var detail = await PendingRequestAsync(PortalFixture.RequesterOfficer);
        var panel = _context.Render<ApprovalPanel>(p => p.Add(c => c.Request, detail).Add(c => c.User, User(PortalFixture.RequesterOfficer, PortalRoles.Officer, PortalRoles.Requester)));
        Assert.NotNull(panel.Find("[data-testid=own-request]"));
        Assert.Empty(panel.FindAll("[data-testid=approve]"));
    }

    /// <summary>
    /// A rejection without a comment, or with one holding a NUL character: the reason beside the form, nothing
    /// recorded. On PostgreSQL the NUL was refused by the database and the form said the CA could not record it now.
    /// </summary>
    [Theory]
    [InlineData(null, "Say why")]
    [InlineData("the key\0 leaked", "NUL character (U+0000)")]
    public async Task ApprovalPanel_RejectWithBadComment_ErrorInlineNothingRecorded(string? comment, string error)
    {
        var detail = await PendingRequestAsync(PortalFixture.RequesterOfficer);
        var decided = false;
        var panel = _context.Render<ApprovalPanel>(p => p
            .Add(c => c.Request, detail)
            .Add(c => c.User, User(PortalFixture.UserOf[PortalRoles.Officer], PortalRoles.Officer))
            .Add(c => c.Decided, _ => decided = true));
        if (comment is not null)
        {
            await panel.Find("textarea").ChangeAsync(new() { Value = comment });
        }

        await panel.Find("[data-testid=reject]").ClickAsync(new());
        Assert.Contains(error, panel.Find("[data-testid=decision-error]").TextContent, StringComparison.Ordinal);
        Assert.False(decided);
        var after = await fixture.Services.GetRequiredService<PortalQueries>().RequestAsync(detail.Request.Id);
        Assert.Equal(RequestStatus.Pending, after!.Request.Status);
        Assert.Empty(after.Decisions);
    }

    [Fact]
    public async Task ApprovalPanel_OfficerApproves_DecisionRecordedAndRaised()
    {
        var detail = await PendingRequestAsync(PortalFixture.RequesterOfficer);
        IssuanceOutcome? outcome = null;
        var panel = _context.Render<ApprovalPanel>(p => p
            .Add(c => c.Request, detail)
            .Add(c => c.User, User(PortalFixture.SecondOfficer, PortalRoles.Officer))
            .Add(c => c.Decided, o => outcome = o));
        await panel.Find("[data-testid=approve]").ClickAsync(new());
        Assert.NotNull(outcome);
        Assert.Equal(RequestStatus.Pending, outcome.Status);
        var after = await fixture.Services.GetRequiredService<PortalQueries>().RequestAsync(detail.Request.Id);
        Assert.Equal(PortalFixture.SecondOfficer, Assert.Single(after!.Decisions).Officer);
    }

    [Fact]
    public async Task RevokeDialog_ChosenReason_RevokesAndCloses()
    {
        var serial = await IssuedSerialAsync("revoke-dialog.example.com");
        var provider = _context.Render<MudDialogProvider>();
        var dialogs = _context.Services.GetRequiredService<IDialogService>();
        var parameters = new DialogParameters<RevokeDialog> { { d => d.Serial, serial }, { d => d.User, User(PortalFixture.UserOf[PortalRoles.Officer], PortalRoles.Officer) } };
        var reference = await provider.InvokeAsync(() => dialogs.ShowAsync<RevokeDialog>("Revoke", parameters));
        // The revoke button stays disabled until a reason is chosen.
        Assert.True(provider.Find("[data-testid=confirm-revoke]").HasAttribute("disabled"));
        await provider.Find("[data-testid=reason-superseded] input, input[data-testid=reason-superseded]").ClickAsync(new());
        await provider.Find("[data-testid=confirm-revoke]").ClickAsync(new());
        var result = await reference.Result;
        Assert.False(result!.Canceled);
        var record = await fixture.Services.GetRequiredService<PortalQueries>().CertificateAsync(serial);
        Assert.Equal(CertificateStatus.Revoked, record!.Certificate.Status);
        Assert.Equal("superseded", record.Certificate.RevocationReason);
    }

    [Fact]
    public async Task RevokeDialog_AuditorTries_ErrorShownCertificateStays()
    {
        var serial = await IssuedSerialAsync("revoke-refused.example.com");
        var provider = _context.Render<MudDialogProvider>();
        var dialogs = _context.Services.GetRequiredService<IDialogService>();
        var parameters = new DialogParameters<RevokeDialog> { { d => d.Serial, serial }, { d => d.User, User(PortalFixture.UserOf[PortalRoles.Auditor], PortalRoles.Auditor) } };
        await provider.InvokeAsync(() => dialogs.ShowAsync<RevokeDialog>("Revoke", parameters));
        await provider.Find("[data-testid=reason-keyCompromise] input, input[data-testid=reason-keyCompromise]").ClickAsync(new());
        await provider.Find("[data-testid=confirm-revoke]").ClickAsync(new());
        Assert.Contains("Only an officer", provider.Find("[data-testid=revoke-error]").TextContent, StringComparison.Ordinal);
        var record = await fixture.Services.GetRequiredService<PortalQueries>().CertificateAsync(serial);
        Assert.Equal(CertificateStatus.Issued, record!.Certificate.Status);
    }

    /// <summary>
    /// A page that fails where it does not catch the failure: the layout's boundary says why (a person's mistake in
    /// its own words, anything else without its inside) in place of the page, and "Back" renders the page again.
    /// </summary>
    [Theory]
    [InlineData("caller", "The search holds something it may not.", 200)]
    [InlineData("outage", "The CA's database does not answer now; try again in a moment.", 503)]
    [InlineData("fault", "This page failed; the operators have the details in the log.", 500)]
    public void ErrorBoundary_PageFails_SaysWhyAndRecovers(string kind, string said, int fullLoadStatus)
    {
        Failing.Fail = kind switch
        {
            "caller" => new CaException(CaErrorKind.Malformed, "The search holds something it may not."),
            "outage" => new CaException(CaErrorKind.StorageFailed, "The issuance database could not read.", new Microsoft.Data.Sqlite.SqliteException("inside detail: disk I/O error", 10)),
            _ => new InvalidCastException("inside detail"),
        };
        var boundary = _context.Render<PortalErrorBoundary>(p => p.AddChildContent<Failing>());
        Assert.Equal(said, boundary.Find("[data-testid=page-error]").TextContent.Trim());
        Assert.DoesNotContain("inside detail", boundary.Markup, StringComparison.Ordinal);

        // The same failure while the page's first view renders on the server (a full page load, whose HttpContext
        // cascades): an outage or a fault sets its status on the response; a person's refusal leaves it.
        var http = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        _context.Render<PortalErrorBoundary>(p => p.AddCascadingValue<Microsoft.AspNetCore.Http.HttpContext>(http).AddChildContent<Failing>());
        Assert.Equal(fullLoadStatus, http.Response.StatusCode);
        Assert.Equal(fullLoadStatus == 503 ? "5" : string.Empty, http.Response.Headers.RetryAfter.ToString());

        Failing.Fail = null;
        boundary.Find("[data-testid=page-error-back]").Click();
        Assert.Equal("rendered", boundary.Find("[data-testid=failing]").TextContent);
        Assert.Empty(boundary.FindAll("[data-testid=page-error]"));
    }

    private static ClaimsPrincipal User(string name, params string[] roles) => TestUsers.Principal(name, roles);

    /// <summary>A page that throws <see cref="Fail"/> as it starts, when set.</summary>
    private sealed class Failing : ComponentBase
    {
        public static Exception? Fail { get; set; }

        protected override void OnInitialized()
        {
            if (Fail is { } failure)
            {
                throw failure;
            }
        }

        protected override void BuildRenderTree(RenderTreeBuilder builder)
        {
            builder.OpenElement(0, "span");
            builder.AddAttribute(1, "data-testid", "failing");
            builder.AddContent(2, "rendered");
            builder.CloseElement();
        }
    }

    private async Task<RequestDetail> PendingRequestAsync(string requester)
    {
        var requests = fixture.Services.GetRequiredService<RequestService>();
        var outcome = await requests.SubmitAsync(User(requester, PortalRoles.Requester), "two-officers",
            Encoding.ASCII.GetBytes(PortalFixture.CsrPem($"pending-{Guid.NewGuid():N}.example.com")), "test", null);
        Assert.Equal(RequestStatus.Pending, outcome.Status);
        return (await fixture.Services.GetRequiredService<PortalQueries>().RequestAsync(outcome.RequestId))!;
    }

    private async Task<string> IssuedSerialAsync(string name)
    {
        var outcome = await fixture.Services.GetRequiredService<RequestService>().SubmitAsync(User(PortalFixture.UserOf[PortalRoles.Requester], PortalRoles.Requester), "tls-server",
            Encoding.ASCII.GetBytes(PortalFixture.CsrPem(name)), "test", null);
        Assert.Equal(RequestStatus.Issued, outcome.Status);
        return outcome.SerialHex!;
    }
}
