using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MiniCa.Acme.Jws;
using MiniCa.Acme.Validation;
using MiniCa.Core.Acme;
using MiniCa.Core.Errors;

namespace MiniCa.Acme;

/// <summary>
/// The ACME HTTP edge (RFC 8555 §6): every POST is a JWS in flattened JSON (<c>application/jose+json</c>) whose
/// <c>url</c> is the request URL, signed by the account key (<c>kid</c>) or, for newAccount and revocation by
/// certificate key, by the <c>jwk</c> it carries; each nonce is used once. Every response carries a fresh
/// <c>Replay-Nonce</c> and <c>Link: &lt;directory&gt;;rel="index"</c>; errors are problem documents, never a 500.
/// </summary>
public static class AcmeEndpoints
{
    /// <summary>The largest JWS accepted (a CSR of a few kilobytes, base64url, inside JSON).</summary>
    public const int MaxBody = 64 * 1024;

    private enum KeyMode
    {
        Jwk,
        Kid,
        Either,
    }

    /// <summary>Registers the ACME server's parts.</summary>
    public static IServiceCollection AddMiniCaAcme(this IServiceCollection services)
    {
        services.AddSingleton<AcmeUrls>();
        services.AddSingleton<AcmeNonces>();
        services.AddSingleton<DnsLookup>();
        services.AddSingleton<ChallengeValidator>();
        services.AddSingleton<AcmeServer>();
        services.AddHostedService<AcmeResumption>();
        return services;
    }

    /// <summary>Maps <c>/acme/…</c>.</summary>
    public static IEndpointRouteBuilder MapAcme(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var acme = app.MapGroup("/acme").AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();
        acme.MapGet("/directory", async (HttpContext http, AcmeServer server, AcmeUrls urls) =>
        {
            http.Response.Headers.CacheControl = "public, max-age=3600";
            await WriteJsonAsync(http, 200, server.Directory());
        });
        acme.MapMethods("/new-nonce", ["HEAD", "GET"], async (HttpContext http, AcmeNonces nonces, AcmeUrls urls) =>
        {
            await AddCommonHeadersAsync(http, nonces, urls);
            // RFC 8555 §7.2: 200 for HEAD, 204 for GET; never cached.
            http.Response.StatusCode = HttpMethods.IsHead(http.Request.Method) ? 200 : 204;
        });
        acme.MapPost("/new-account", Handler(KeyMode.Jwk, (s, jws, account, key, ct) => s.NewAccountAsync(jws, key, ct)));
        acme.MapPost("/acct/{id:long}", Handler(KeyMode.Kid, (s, jws, account, key, ct) => s.AccountAsync(jws, account!, Id(jws), ct)));
        acme.MapPost("/acct/{id:long}/orders", Handler(KeyMode.Kid, (s, jws, account, key, ct) => PostAsGet(jws, () => s.OrdersAsync(account!, Id(jws), ct))));
        acme.MapPost("/key-change", Handler(KeyMode.Kid, (s, jws, account, key, ct) => s.KeyChangeAsync(jws, account!, ct)));
        acme.MapPost("/new-order", Handler(KeyMode.Kid, (s, jws, account, key, ct) => s.NewOrderAsync(jws, account!, ct)));
        acme.MapPost("/order/{id:long}", Handler(KeyMode.Kid, (s, jws, account, key, ct) => PostAsGet(jws, () => s.OrderAsync(account!, Id(jws), ct))));
        acme.MapPost("/order/{id:long}/finalize", Handler(KeyMode.Kid, (s, jws, account, key, ct) => s.FinalizeAsync(jws, account!, Id(jws), ct)));
        acme.MapPost("/authz/{id:long}", Handler(KeyMode.Kid, (s, jws, account, key, ct) => s.AuthorizationAsync(jws, account!, Id(jws), ct)));
        acme.MapPost("/chall/{id:long}", Handler(KeyMode.Kid, (s, jws, account, key, ct) => s.ChallengeAsync(jws, account!, Id(jws), ct)));
        acme.MapPost("/cert/{serial}", Handler(KeyMode.Kid, (s, jws, account, key, ct) => PostAsGet(jws, () => s.CertificateAsync(account!, Last(jws), ct))));
        acme.MapPost("/revoke-cert", Handler(KeyMode.Either, (s, jws, account, key, ct) => s.RevokeAsync(jws, account, account is null ? key : null, ct)));
        acme.MapGet("/renewal-info/{id}", async (HttpContext http, string id, AcmeServer server, AcmeUrls urls) =>
        {
            try
            {
                var info = await server.RenewalInfoAsync(id, http.RequestAborted);
                // RFC 9773 §4.3: clients poll again after Retry-After.
                http.Response.Headers.RetryAfter = "21600";
                await WriteJsonAsync(http, 200, info);
            }
            catch (AcmeException ex)
            {
                await WriteProblemAsync(http, ex);
            }
        });
        acme.Map("/{**rest}", async (HttpContext http, AcmeNonces nonces, AcmeUrls urls) =>
        {
            await AddCommonHeadersAsync(http, nonces, urls);
            await WriteProblemAsync(http, new AcmeException("malformed", "There is no such ACME resource; start from the directory.", 404));
        });
        return app;
    }

    private static RequestDelegate Handler(KeyMode mode, Func<AcmeServer, JwsMessage, AcmeAccount?, AccountKey, CancellationToken, Task<AcmeResponse>> action) =>
        http => HandleAsync(http, mode, action);

    /// <summary>The resource number in the (already verified) request URL: …/order/17 or …/order/17/finalize.</summary>
    private static long Id(JwsMessage jws)
    {
        var segments = new Uri(jws.Url!).Segments.Select(x => x.Trim('/')).ToList();
        var index = segments.Count >= 2 && segments[^1] is "finalize" or "orders" ? segments.Count - 2 : segments.Count - 1;
        return long.Parse(segments[index], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string Last(JwsMessage jws) => new Uri(jws.Url!).Segments[^1].Trim('/');

    private static Task<AcmeResponse> PostAsGet(JwsMessage jws, Func<Task<AcmeResponse>> read) =>
        jws.IsPostAsGet ? read() : throw new AcmeException("malformed", "This resource is read with POST-as-GET (an empty payload, RFC 8555 §6.3).");

    private static async Task HandleAsync(HttpContext http, KeyMode mode, Func<AcmeServer, JwsMessage, AcmeAccount?, AccountKey, CancellationToken, Task<AcmeResponse>> action)
    {
        var services = http.RequestServices;
        var nonces = services.GetRequiredService<AcmeNonces>();
        var urls = services.GetRequiredService<AcmeUrls>();
        var store = services.GetRequiredService<IAcmeStore>();
        var cancellationToken = http.RequestAborted;
        try
        {
            await AddCommonHeadersAsync(http, nonces, urls);
            if (!string.Equals(http.Request.ContentType?.Split(';')[0].Trim(), "application/jose+json", StringComparison.OrdinalIgnoreCase))
            {
                throw new AcmeException("malformed", "ACME requests are JWS with Content-Type application/jose+json (RFC 8555 §6.2).", 415);
            }

            var body = await ReadBodyAsync(http.Request, cancellationToken);
            var jws = JwsMessage.Parse(body);
            jws.CheckOuter(wantsJwk: mode == KeyMode.Jwk, allowsEither: mode == KeyMode.Either);
            if (jws.Url != urls.For(http.Request.Path.Value ?? string.Empty))
            {
                throw new AcmeException("unauthorized", $"The JWS 'url' ({jws.Url}) is not the URL this request was sent to (RFC 8555 §6.4).", 401);
            }

            AcmeAccount? account = null;
            AccountKey key;
            if (jws.Kid is { } kid)
            {
                var id = urls.AccountId(kid) ?? throw new AcmeException("accountDoesNotExist", "The 'kid' is not an account URL of this CA.", 400);
                account = await store.FindAccountAsync(id, cancellationToken) ?? throw new AcmeException("accountDoesNotExist", $"Account {id} does not exist.", 400);
                if (account.Status != AcmeAccountStatus.Valid)
                {
                    throw new AcmeException("unauthorized", $"Account {id} is {account.Status.ToString().ToLowerInvariant()}.", 401);
                }

                key = AccountKey.FromJson(account.Jwk);
            }
            else
            {
                key = AccountKey.Parse(jws.Jwk!.Value);
            }

            jws.VerifyWith(key);
            if (!await nonces.UseAsync(jws.Nonce!, cancellationToken))
            {
                throw new AcmeException("badNonce", "The nonce is unknown, expired or already used; retry with the Replay-Nonce of this response.");
            }

            var response = await action(services.GetRequiredService<AcmeServer>(), jws, account, key, cancellationToken);
            await WriteResponseAsync(http, response, urls);
        }
        catch (AcmeException ex)
        {
            await WriteProblemAsync(http, ex);
        }
        catch (Exception ex) when (DatabaseFailure.IsUnavailable(ex))
        {
            // The issuance database does not answer (a PostgreSQL server stopped or failing over): a client retries.
            services.GetRequiredService<ILoggerFactory>().CreateLogger("MiniCa.Acme").LogWarning("ACME request {Path} failed: the database does not answer ({Reason})", http.Request.Path, ex.GetBaseException().Message);
            await WriteProblemAsync(http, new AcmeException("serverInternal", "The CA's database does not answer now; try again later.", 503));
        }
        catch (CaException ex)
        {
            // Inside errors reach the edge only as ACME problems; internal detail stays in the log.
            services.GetRequiredService<ILoggerFactory>().CreateLogger("MiniCa.Acme").LogWarning("ACME request {Path} failed: {Kind} {Message}", http.Request.Path, ex.Kind, ex.Message);
            await WriteProblemAsync(http, ex.Kind switch
            {
                CaErrorKind.Malformed => new AcmeException("malformed", ex.Message),
                CaErrorKind.PolicyViolation => new AcmeException("rejectedIdentifier", ex.Message),
                CaErrorKind.NotFound => new AcmeException("malformed", ex.Message, 404),
                CaErrorKind.Forbidden => new AcmeException("unauthorized", ex.Message, 403),
                CaErrorKind.AlreadyExists or CaErrorKind.InvalidState => new AcmeException("malformed", ex.Message, 409),
                _ => new AcmeException("serverInternal", "The CA cannot complete this request now.", 500),
            });
        }
        catch (BadHttpRequestException ex)
        {
            await WriteProblemAsync(http, new AcmeException("malformed", "The request could not be read.", ex.StatusCode));
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBody)
        {
            throw new AcmeException("malformed", $"The request body is larger than {MaxBody:N0} bytes.", 413);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBody)
            {
                throw new AcmeException("malformed", $"The request body is larger than {MaxBody:N0} bytes.", 413);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static async Task AddCommonHeadersAsync(HttpContext http, AcmeNonces nonces, AcmeUrls urls)
    {
        http.Response.Headers["Replay-Nonce"] = await nonces.NewAsync(http.RequestAborted);
        http.Response.Headers.Append("Link", $"<{urls.Directory}>;rel=\"index\"");
        http.Response.Headers.CacheControl = "no-store";
    }

    private static async Task WriteResponseAsync(HttpContext http, AcmeResponse response, AcmeUrls urls)
    {
        if (response.Location is { } location)
        {
            http.Response.Headers.Location = location;
        }

        if (response.Up is { } up)
        {
            http.Response.Headers.Append("Link", $"<{up}>;rel=\"up\"");
        }

        if (response.RetryAfter is { } seconds)
        {
            http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        switch (response.Body)
        {
            case null:
                http.Response.StatusCode = response.Status;
                break;
            case string text:
                http.Response.StatusCode = response.Status;
                http.Response.ContentType = response.ContentType ?? "text/plain";
                await http.Response.WriteAsync(text, http.RequestAborted);
                break;
            default:
                await WriteJsonAsync(http, response.Status, response.Body);
                break;
        }
    }

    private static async Task WriteJsonAsync(HttpContext http, int status, object body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(AcmeServer.Serialize(body), http.RequestAborted);
    }

    private static async Task WriteProblemAsync(HttpContext http, AcmeException problem)
    {
        if (http.Response.HasStarted)
        {
            return;
        }

        http.Response.StatusCode = problem.Status;
        http.Response.ContentType = "application/problem+json";
        if (problem.Data["Retry-After"] is string retry)
        {
            http.Response.Headers.RetryAfter = retry;
        }

        if (problem.Data["Location"] is string location)
        {
            http.Response.Headers.Location = location;
        }

        var document = new Dictionary<string, object?>
        {
            ["type"] = "urn:ietf:params:acme:error:" + problem.Type,
            ["detail"] = problem.Message,
            ["status"] = problem.Status,
        };
        if (problem.Subproblems.Count > 0)
        {
            document["subproblems"] = problem.Subproblems.Select(s => new Dictionary<string, object>
            {
                ["type"] = "urn:ietf:params:acme:error:" + s.Type,
                ["detail"] = s.Detail,
                ["identifier"] = new Dictionary<string, string> { ["type"] = s.IdentifierType, ["value"] = s.IdentifierValue },
            }).ToList();
        }

        if (problem.Type == "badSignatureAlgorithm")
        {
            document["algorithms"] = AccountKey.Algorithms;
        }

        await http.Response.WriteAsync(JsonSerializer.Serialize(document), http.RequestAborted);
    }
}
