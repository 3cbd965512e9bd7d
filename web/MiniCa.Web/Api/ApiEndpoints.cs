using System.Security.Claims;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Data.Queries;
using MiniCa.Hosting;
using MiniCa.Web.Portal;
using MiniCa.Web.Security;

namespace MiniCa.Web.Api;

/// <summary>
/// <c>/api/v1</c>: automation over the same services and role rules as the portal, authenticated only by personal
/// API tokens (<c>Authorization: Bearer mca_…</c>). Errors are RFC 9457 problem documents.
/// </summary>
internal static class ApiEndpoints
{
    /// <summary>The largest API request body: a CSR is a few kilobytes, a JSON envelope a few more.</summary>
    public const long MaxBodyBytes = 256 * 1024;

    /// <summary>
    /// Refuses oversized API bodies at the door (413), before anything reads them, whether or not the client
    /// declared a length.
    /// </summary>
    public static IApplicationBuilder UseApiBodyLimit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.Path.StartsWithSegments("/api"))
        {
            if (context.Request.ContentLength > MaxBodyBytes)
            {
                await ApiProblems.Problem(413, "too-large", $"The request body is {context.Request.ContentLength:N0} bytes; at most {MaxBodyBytes:N0} are accepted.").ExecuteAsync(context);
                return;
            }

            if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = MaxBodyBytes;
            }
        }

        await next(context);
    });

    public static IEndpointRouteBuilder MapApiEndpoints(this IEndpointRouteBuilder app)
    {
        // Anything else under /api is a 404 problem, not a sign-in redirect or a portal page.
        app.Map("/api/{**rest}", () => ApiProblems.NotFound("There is no such API resource; see /openapi/v1.json.")).AllowAnonymous().ExcludeFromDescription();
        var api = app.MapGroup("/api/v1").WithTags("MiniCa").RequireAuthorization(PortalPolicies.Api(PortalPolicies.Member));
        api.MapPost("/requests", SubmitAsync).RequireAuthorization(PortalPolicies.Api(PortalPolicies.Request))
            .WithSummary("Submit a CSR for a profile").WithDescription("Issued at once for automatic profiles (201), pending for manual ones (202), rejected with every reason (422).");
        api.MapGet("/requests", ListRequestsAsync).WithSummary("List requests (your own; Officers, Auditors and Administrators see all)");
        api.MapGet("/requests/{id:long}", GetRequestAsync).WithSummary("Read a request's status");
        api.MapPost("/requests/{id:long}/approve", (long id, DecisionBody? body, ClaimsPrincipal user, RequestService requests, CancellationToken ct) => DecideAsync(id, true, body, user, requests, ct))
            .RequireAuthorization(PortalPolicies.Api(PortalPolicies.Approve)).WithSummary("Approve a pending request (Officers; never your own)");
        api.MapPost("/requests/{id:long}/reject", (long id, DecisionBody? body, ClaimsPrincipal user, RequestService requests, CancellationToken ct) => DecideAsync(id, false, body, user, requests, ct))
            .RequireAuthorization(PortalPolicies.Api(PortalPolicies.Approve)).WithSummary("Reject a pending request with a comment (Officers)");
        api.MapGet("/certificates", ListCertificatesAsync).WithSummary("Search certificates (your own; Officers, Auditors and Administrators see all)");
        api.MapGet("/certificates/{serial}", GetCertificateAsync).WithSummary("Read a certificate");
        api.MapGet("/certificates/{serial}/{format}", DownloadAsync).WithSummary("Download a certificate: pem, der, chain (PEM) or p7b");
        api.MapPost("/certificates/{serial}/revoke", RevokeAsync).WithSummary("Revoke a certificate (Officers, or its requester)");
        api.MapGet("/blocked-keys", ListBlockedKeysAsync).RequireAuthorization(PortalPolicies.Api(PortalPolicies.SeeAll))
            .WithSummary("List the keys reported compromised, most recent first (Officers, Auditors, Administrators)");
        api.MapGet("/blocked-keys/{sha256}", GetBlockedKeyAsync).RequireAuthorization(PortalPolicies.Api(PortalPolicies.SeeAll))
            .WithSummary("Read the block of a key by its SubjectPublicKeyInfo SHA-256");
        api.MapPost("/blocked-keys", BlockKeyAsync).RequireAuthorization(PortalPolicies.Api(PortalPolicies.Approve))
            .WithSummary("Block a key reported compromised (Officers)")
            .WithDescription("Every unexpired certificate of the key is revoked for keyCompromise in the same transaction. 201 when blocked now, 200 when it was blocked already.");
        api.MapPost("/blocked-keys/{sha256}/lift", LiftBlockAsync).RequireAuthorization(PortalPolicies.Api(PortalPolicies.Approve))
            .WithSummary("Lift a block made by mistake, with a note (Officers); its revoked certificates stay revoked");
        api.MapGet("/audit/events", ListAuditEventsAsync).RequireAuthorization(PortalPolicies.Api(PortalPolicies.Audit))
            .WithSummary("Read the audit log in id order, after an event id (Auditors, Administrators)")
            .WithDescription("For a SIEM that collects the log: 'after' is the last id read (0 to start), 'limit' 1..1000 (default 100); 'next' is the id to ask after next, null when the log ends here. The fields are those the audit chain hashes (README).");
        api.MapGet("/audit/integrity", CheckAuditIntegrityAsync).RequireAuthorization(PortalPolicies.Api(PortalPolicies.Audit))
            .WithSummary("Check the audit log against anchors kept elsewhere and the signed anchors stored in it (Auditors, Administrators)")
            .WithDescription("'anchor' (ID:HASH, repeatable, at most 100). 'intact' is false when the log no longer matches an anchor given or a signed anchor; 'head' is the anchor to keep now. The log is read whole: seconds for a million events.");
        return app;
    }

    private static async Task<IResult> SubmitAsync(SubmitRequestBody body, ClaimsPrincipal user, RequestService requests, PortalQueries queries, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(body?.Profile) || string.IsNullOrWhiteSpace(body.Csr))
        {
            return ApiProblems.Problem(400, "malformed", "Both 'profile' and 'csr' are required.");
        }

        return await Guard(async () =>
        {
            var outcome = await requests.SubmitAsync(user, body.Profile, CsrBytes(body.Csr), "api", body.ValidityDays, cancellationToken);
            var detail = await queries.RequestAsync(outcome.RequestId, cancellationToken);
            var resource = RequestResource.From(detail!.Request, detail.Problems);
            var location = $"/api/v1/requests/{outcome.RequestId}";
            return outcome.Status switch
            {
                RequestStatus.Issued => Results.Created(location, resource),
                RequestStatus.Pending => Results.Accepted(location, resource),
                RequestStatus.Rejected => ApiProblems.Problem(422, "rejected", "The request was rejected: " + string.Join("; ", outcome.Problems),
                    new Dictionary<string, object?> { ["requestId"] = outcome.RequestId, ["problems"] = outcome.Problems }),
                _ => ApiProblems.Problem(503, "issuance-failed", $"Issuance failed; request {outcome.RequestId} records it and the operators have the details.",
                    new Dictionary<string, object?> { ["requestId"] = outcome.RequestId }),
            };
        });
    }

    private static async Task<IResult> ListRequestsAsync(ClaimsPrincipal user, RequestService requests, string? status, string? profile, string? q, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        RequestStatus? wanted = null;
        if (!string.IsNullOrEmpty(status))
        {
            if (!Enum.TryParse<RequestStatus>(status, ignoreCase: true, out var parsed) || int.TryParse(status, out _))
            {
                return ApiProblems.Problem(400, "malformed", $"'{status}' is not a request status ({string.Join(", ", Enum.GetNames<RequestStatus>()).ToLowerInvariant()}).");
            }

            wanted = parsed;
        }

        var query = new RequestQuery { Status = wanted, Profile = profile, Text = q, Page = page ?? 0, PageSize = pageSize ?? 25, OldestFirst = wanted == RequestStatus.Pending };
        var result = await requests.ListAsync(user, query, cancellationToken);
        return Results.Ok(new PageResource<RequestResource>(result.Items.Select(r => RequestResource.From(r, [])).ToList(), result.Total, query.Page, Math.Clamp(query.PageSize, 1, 200)));
    }

    private static async Task<IResult> GetRequestAsync(long id, ClaimsPrincipal user, RequestService requests, CancellationToken cancellationToken)
    {
        var detail = await requests.FindAsync(user, id, cancellationToken);
        return detail is null ? ApiProblems.NotFound($"No request {id}.") : Results.Ok(RequestResource.From(detail.Request, detail.Problems));
    }

    private static Task<IResult> DecideAsync(long id, bool approve, DecisionBody? body, ClaimsPrincipal user, RequestService requests, CancellationToken cancellationToken) =>
        Guard(async () =>
        {
            var outcome = await requests.DecideAsync(user, id, approve, body?.Comment, cancellationToken);
            var detail = await requests.FindAsync(user, id, cancellationToken);
            return Results.Ok(RequestResource.From(detail!.Request, detail.Problems.Count > 0 ? detail.Problems : outcome.Problems));
        });

    private static async Task<IResult> ListCertificatesAsync(ClaimsPrincipal user, CertificateService certificates, string? serial, string? q, string? profile, string? status, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        CertificateStatus? wanted = null;
        if (!string.IsNullOrEmpty(status))
        {
            if (!Enum.TryParse<CertificateStatus>(status, ignoreCase: true, out var parsed) || int.TryParse(status, out _))
            {
                return ApiProblems.Problem(400, "malformed", $"'{status}' is not a certificate status (issued, revoked).");
            }

            wanted = parsed;
        }

        var query = new CertificateQuery { Serial = serial, Text = q, Profile = profile, Status = wanted, Page = page ?? 0, PageSize = pageSize ?? 25 };
        var result = await certificates.SearchAsync(user, query, cancellationToken);
        return Results.Ok(new PageResource<CertificateResource>(result.Items.Select(CertificateResource.From).ToList(), result.Total, query.Page, Math.Clamp(query.PageSize, 1, 200)));
    }

    private static async Task<IResult> GetCertificateAsync(string serial, ClaimsPrincipal user, CertificateService certificates, CancellationToken cancellationToken)
    {
        var detail = await certificates.FindAsync(user, serial, cancellationToken);
        return detail is null ? ApiProblems.NotFound($"No certificate with serial {serial}.") : Results.Ok(CertificateResource.From(detail.Certificate));
    }

    private static Task<IResult> DownloadAsync(string serial, string format, ClaimsPrincipal user, CertificateService certificates, CancellationToken cancellationToken) =>
        Guard(async () =>
        {
            var download = await certificates.DownloadAsync(user, serial, format, cancellationToken);
            return download is null ? ApiProblems.NotFound($"No issued certificate with serial {serial}.") : Results.File(download.Content, download.ContentType, download.FileName);
        });

    private static Task<IResult> RevokeAsync(string serial, RevokeBody body, ClaimsPrincipal user, CertificateService certificates, CancellationToken cancellationToken) =>
        Guard(async () =>
        {
            if (string.IsNullOrWhiteSpace(body?.Reason))
            {
                return ApiProblems.Problem(400, "malformed", "'reason' is required (an RFC 5280 reason name such as keyCompromise or superseded).");
            }

            var revoked = await certificates.RevokeAsync(user, serial, body.Reason, body.InvalidityDate, cancellationToken);
            var detail = await certificates.FindAsync(user, revoked.SerialHex, cancellationToken);
            return Results.Ok(CertificateResource.From(detail!.Certificate));
        });

    private static async Task<IResult> ListBlockedKeysAsync(BlockedKeyService blocked, int? limit, CancellationToken cancellationToken) =>
        Results.Ok((await blocked.ListAsync(limit ?? 100, cancellationToken)).Select(BlockedKeyResource.From).ToList());

    private static async Task<IResult> GetBlockedKeyAsync(string sha256, IIssuanceReader reader, CancellationToken cancellationToken) =>
        await reader.FindBlockedKeyAsync(sha256.ToLowerInvariant(), cancellationToken) is { } block
            ? Results.Ok(BlockedKeyResource.From(block))
            : ApiProblems.NotFound($"Key {sha256} is not blocked.");

    private static Task<IResult> BlockKeyAsync(BlockKeyBody body, ClaimsPrincipal user, BlockedKeyService blocked, CancellationToken cancellationToken) =>
        Guard(async () =>
        {
            var outcome = await blocked.BlockAsync(user, body?.Key, body?.Note, "API", cancellationToken);
            var resource = new KeyBlockResource(BlockedKeyResource.From(outcome.Block), outcome.Added, outcome.Revoked.Select(c => c.SerialHex).ToList());
            return outcome.Added ? Results.Created($"/api/v1/blocked-keys/{outcome.Block.PublicKeySha256}", resource) : Results.Ok(resource);
        });

    private static Task<IResult> LiftBlockAsync(string sha256, LiftBlockBody body, ClaimsPrincipal user, BlockedKeyService blocked, CancellationToken cancellationToken) =>
        Guard(async () => Results.Ok(BlockedKeyResource.From(await blocked.LiftAsync(user, sha256, body?.Note, cancellationToken))));

    /// <summary>PEM text, or base64 of DER (a JSON string cannot hold raw bytes).</summary>
    private static byte[] CsrBytes(string csr) => PastedDer.Bytes(csr, "'csr' is neither PEM nor base64 DER.");

    private static async Task<IResult> ListAuditEventsAsync(PortalQueries queries, long? after, int? limit, CancellationToken cancellationToken)
    {
        if (after is < 0)
        {
            return ApiProblems.Problem(400, "malformed", $"'after' {after} is not 0 or an event id.");
        }

        if (limit is < 1 or > 1000)
        {
            return ApiProblems.Problem(400, "malformed", $"'limit' {limit} is out of range (1..1000).");
        }

        var wanted = limit ?? 100;
        var rows = await queries.AuditEventsAfterAsync(after ?? 0, wanted, cancellationToken);
        return Results.Ok(new AuditEventsResource(rows.Select(AuditEventResource.From).ToList(), rows.Count == wanted ? rows[^1].Id : null));
    }

    private static async Task<IResult> CheckAuditIntegrityAsync(AuditLogIntegrity integrity, CaOptions options, TimeProvider time, [Microsoft.AspNetCore.Mvc.FromQuery] string[]? anchor, CancellationToken cancellationToken)
    {
        anchor ??= [];
        if (anchor.Length > 100)
        {
            return ApiProblems.Problem(400, "malformed", $"{anchor.Length} anchors given; at most 100 are checked at once.");
        }

        var anchors = new List<AuditAnchor>();
        foreach (var text in anchor)
        {
            if (AuditAnchor.Parse(text?.Trim()) is not { } parsed)
            {
                return ApiProblems.Problem(400, "malformed", $"'anchor' '{(text is { Length: > 80 } ? text[..80] + "…" : text)}' is not ID:HASH (a decimal event id, a colon and 64 hex digits).");
            }

            anchors.Add(parsed);
        }

        var settledBefore = time.GetUtcNow().AddSeconds(-options.Audit.AnchorSettledSeconds);
        return await Guard(async () => Results.Ok(AuditIntegrityResource.From(await integrity.CheckAsync(anchors, settledBefore, cancellationToken: cancellationToken))));
    }

    private static async Task<IResult> Guard(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (CaException ex)
        {
            return ApiProblems.From(ex);
        }
    }
}
