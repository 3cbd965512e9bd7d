using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace MiniCa.Web.Tests;

/// <summary>
/// The ACME server's rules at the HTTP edge, with a hand-made client: hostile JWS, nonces, url binding, problem
/// documents, state transitions through a whole order (an IP identifier over http-01, served by this test), the
/// CSR check at finalize, download, revocation by certificate key, renewal information.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class AcmeProtocolTests(PortalFixture fixture)
{
    private async Task<AcmeTestClient> NewAccountAsync()
    {
        var client = new AcmeTestClient(fixture.BaseAddress);
        await client.InitializeAsync();
        var reply = await client.PostAsync(client.Url("newAccount"), new { termsOfServiceAgreed = true, contact = new[] { "mailto:ops@example.com" } });
        Assert.Equal(HttpStatusCode.Created, reply.Status);
        client.Kid = reply.Location;
        return client;
    }

    [Fact]
    public async Task Directory_AndNonce_AsRfc8555Says()
    {
        using var client = new AcmeTestClient(fixture.BaseAddress);
        await client.InitializeAsync();
        foreach (var member in new[] { "newNonce", "newAccount", "newOrder", "revokeCert", "keyChange", "renewalInfo" })
        {
            Assert.StartsWith(fixture.BaseAddress.ToString(), client.Url(member), StringComparison.Ordinal);
        }

        Assert.True(client.Directory.GetProperty("meta").GetProperty("profiles").TryGetProperty("tls-server", out _));
        Assert.False(client.Directory.GetProperty("meta").GetProperty("externalAccountRequired").GetBoolean());
        Assert.NotEqual(await client.NonceAsync(), await client.NonceAsync());
    }

    [Theory]
    [InlineData("none")]
    [InlineData("HS256")]
    [InlineData("RS512")]
    public async Task Jws_UnacceptedAlgorithm_BadSignatureAlgorithm(string alg)
    {
        using var client = new AcmeTestClient(fixture.BaseAddress);
        await client.InitializeAsync();
        var reply = await client.PostAsync(client.Url("newAccount"), new { termsOfServiceAgreed = true }, alg: alg);
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("badSignatureAlgorithm", reply.ProblemType);
        Assert.Contains("ES256", reply.Json.GetProperty("algorithms").ToString(), StringComparison.Ordinal);
        Assert.NotNull(reply.Nonce);
        Assert.Contains(reply.Links, l => l.Contains("rel=\"index\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Jws_SignedByAnotherKey_Malformed()
    {
        using var client = new AcmeTestClient(fixture.BaseAddress);
        await client.InitializeAsync();
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var reply = await client.PostAsync(client.Url("newAccount"), new { termsOfServiceAgreed = true }, signer: other);
        Assert.Equal("malformed", reply.ProblemType);
        Assert.Contains("signature", reply.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nonce_ReusedOrUnknown_BadNonceWithAFreshOne()
    {
        using var client = new AcmeTestClient(fixture.BaseAddress);
        await client.InitializeAsync();
        var nonce = await client.NonceAsync();
        var first = await client.PostAsync(client.Url("newAccount"), new { termsOfServiceAgreed = true }, nonce: nonce);
        Assert.Equal(HttpStatusCode.Created, first.Status);
        var reused = await client.PostAsync(client.Url("newAccount"), new { termsOfServiceAgreed = true }, nonce: nonce);
        Assert.Equal("badNonce", reused.ProblemType);
        Assert.False(string.IsNullOrEmpty(reused.Nonce));
        var unknown = await client.PostAsync(client.Url("newAccount"), new { termsOfServiceAgreed = true }, nonce: "AAAAAAAAAAAAAAAAAAAAAA");
        Assert.Equal("badNonce", unknown.ProblemType);
        // The fresh nonce from the refusal works.
        var retried = await client.PostAsync(client.Url("newAccount"), new { termsOfServiceAgreed = true }, nonce: unknown.Nonce);
        Assert.Equal(HttpStatusCode.OK, retried.Status);
    }

    [Fact]
    public async Task Jws_UrlOfAnotherResource_Unauthorized()
    {
        using var client = new AcmeTestClient(fixture.BaseAddress);
        await client.InitializeAsync();
        var reply = await client.PostAsync(client.Url("newAccount"), new { termsOfServiceAgreed = true }, tweak: h => h["url"] = client.Url("newOrder"));
        Assert.Equal("unauthorized", reply.ProblemType);
    }

    [Fact]
    public async Task Jws_BothJwkAndKid_Malformed()
    {
        using var client = await NewAccountAsync();
        var reply = await client.PostAsync(client.Url("newOrder"), new { identifiers = new[] { new { type = "dns", value = "both.example.com" } } },
            tweak: h => h["jwk"] = AcmeTestClient.Jwk(client.Key));
        Assert.Equal("malformed", reply.ProblemType);
        Assert.Contains("both", reply.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jws_KidOfNoAccount_AccountDoesNotExist()
    {
        using var client = new AcmeTestClient(fixture.BaseAddress);
        await client.InitializeAsync();
        client.Kid = new Uri(fixture.BaseAddress, "acme/acct/999999").ToString();
        var reply = await client.PostAsync(client.Url("newOrder"), new { identifiers = new[] { new { type = "dns", value = "x.example.com" } } });
        Assert.Equal("accountDoesNotExist", reply.ProblemType);
        client.Kid = null;
        var existing = await client.PostAsync(client.Url("newAccount"), new { onlyReturnExisting = true });
        Assert.Equal("accountDoesNotExist", existing.ProblemType);
    }

    [Theory]
    [InlineData("{not json", "application/jose+json", "malformed", 400)]
    [InlineData("{\"protected\":\"e30\",\"payload\":\"\",\"signature\":\"\",\"header\":{}}", "application/jose+json", "malformed", 400)]
    [InlineData("[]", "application/jose+json", "malformed", 400)]
    [InlineData("{}", "application/json", "malformed", 415)]
    public async Task Body_NotAFlattenedJws_ProblemNotA500(string body, string contentType, string type, int status)
    {
        using var client = new AcmeTestClient(fixture.BaseAddress);
        await client.InitializeAsync();
        var reply = await client.SendRawAsync(client.Url("newAccount"), body, contentType);
        Assert.Equal(status, (int)reply.Status);
        Assert.Equal(type, reply.ProblemType);
    }

    /// <summary>
    /// Account keys and headers the fuzzer (MiniCa.Unit.Tests, JwsFuzzTests) found to escape as exceptions: each
    /// is now an ACME problem. Before, the RSA exponent and the Ed25519 point were a 500.
    /// </summary>
    [Theory]
    [InlineData("rsa-empty-exponent", "badPublicKey")]
    [InlineData("ed25519-off-curve", "badPublicKey")]
    [InlineData("header-not-utf8", "malformed")]
    public async Task NewAccount_KeysAndHeadersTheFuzzerFound_ProblemNotA500(string kind, string type)
    {
        using var client = new AcmeTestClient(fixture.BaseAddress);
        await client.InitializeAsync();
        AcmeReply reply;
        if (kind == "header-not-utf8")
        {
            // A protected header whose member name is the byte 0xFF: base64url carries it, JSON reads it, UTF-8 refuses it.
            var header = AcmeTestClient.B64([.. "{\"alg\":\"ES256\",\""u8, 0xFF, .. "\":1}"u8]);
            reply = await client.SendRawAsync(client.Url("newAccount"), $$"""{"protected":"{{header}}","payload":"","signature":"AA"}""");
        }
        else
        {
            var (alg, jwk) = kind == "rsa-empty-exponent"
                ? ("RS256", new JsonObject { ["kty"] = "RSA", ["n"] = AcmeTestClient.B64([.. Enumerable.Repeat((byte)0xC5, 256)]), ["e"] = "" })
                : ("EdDSA", new JsonObject { ["kty"] = "OKP", ["crv"] = "Ed25519", ["x"] = AcmeTestClient.B64(OffCurveEd25519()) });
            reply = await client.PostAsync(client.Url("newAccount"), new { termsOfServiceAgreed = true }, header => header["jwk"] = jwk, alg: alg);
        }

        Assert.True(reply.Status == HttpStatusCode.BadRequest, $"{(int)reply.Status}: {reply.Body}");
        Assert.Equal(type, reply.ProblemType);
    }

    /// <summary>32 bytes that decode to no point of Ed25519 (about half of all values do not).</summary>
    private static byte[] OffCurveEd25519()
    {
        for (byte first = 2; ; first++)
        {
            var x = new byte[32];
            x[0] = first;
            try
            {
                _ = new Org.BouncyCastle.Crypto.Parameters.Ed25519PublicKeyParameters(x);
            }
            catch (ArgumentException)
            {
                return x;
            }
        }
    }

    [Fact]
    public async Task Body_OneMegabytePayload_413Problem()
    {
        using var client = await NewAccountAsync();
        var reply = await client.PostAsync(client.Url("newOrder"), new string('x', 1024 * 1024));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, reply.Status);
        Assert.Equal("malformed", reply.ProblemType);
    }

    [Fact]
    public async Task NewOrder_RefusedIdentifiers_SubproblemPerIdentifier()
    {
        using var client = await NewAccountAsync();
        var reply = await client.PostAsync(client.Url("newOrder"), new
        {
            identifiers = new object[] { new { type = "dns", value = "ok.example.com" }, new { type = "dns", value = "bad_name..example" }, new { type = "ip", value = "8.8.8.8" }, new { type = "email", value = "a@b.c" } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        var subproblems = reply.Json.GetProperty("subproblems").EnumerateArray().ToList();
        Assert.Equal(3, subproblems.Count);
        Assert.Contains(subproblems, s => s.GetProperty("identifier").GetProperty("value").GetString() == "8.8.8.8" && s.GetProperty("type").GetString()!.EndsWith("rejectedIdentifier", StringComparison.Ordinal));
        Assert.Contains(subproblems, s => s.GetProperty("type").GetString()!.EndsWith("unsupportedIdentifier", StringComparison.Ordinal));
        var profile = await client.PostAsync(client.Url("newOrder"), new { identifiers = new[] { new { type = "dns", value = "p.example.com" } }, profile = "code-signing" });
        Assert.Equal("invalidProfile", profile.ProblemType);
    }

    [Fact]
    public async Task NewOrder_ANameTheIssuingCaMayNotCertify_RejectedBeforeAnyChallenge()
    {
        using var client = await NewAccountAsync();
        var name = "www." + PortalFixture.ExcludedDomain;

        var reply = await client.PostAsync(client.Url("newOrder"), new { identifiers = new[] { new { type = "dns", value = name } } });

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("rejectedIdentifier", reply.ProblemType);
        Assert.Equal($"dns:{name} is within the issuer's excluded subtrees (dns:{PortalFixture.ExcludedDomain})", reply.Json.GetProperty("detail").GetString());
        var allowed = await client.PostAsync(client.Url("newOrder"), new { identifiers = new[] { new { type = "dns", value = "www.included.example.com" } } });
        Assert.Equal(HttpStatusCode.Created, allowed.Status);
    }

    [Fact]
    public async Task Order_IpOverHttp01_ReadyFinalizedDownloadedRevokedByCertificateKey()
    {
        using var client = await NewAccountAsync();
        var order = await client.PostAsync(client.Url("newOrder"), new { identifiers = new[] { new { type = "ip", value = "127.0.0.1" } } });
        Assert.Equal(HttpStatusCode.Created, order.Status);
        Assert.Equal("pending", order.Json.GetProperty("status").GetString());
        var orderUrl = order.Location!;
        var authzUrl = order.Json.GetProperty("authorizations")[0].GetString()!;

        // Finalize before the order is ready: orderNotReady.
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var early = await client.PostAsync(order.Json.GetProperty("finalize").GetString()!, new { csr = Csr(leafKey, "127.0.0.1") });
        Assert.Equal("orderNotReady", early.ProblemType);

        var authz = await client.PostAsync(authzUrl, null);
        var challenge = authz.Json.GetProperty("challenges").EnumerateArray().Single(c => c.GetProperty("type").GetString() == "http-01");
        Assert.DoesNotContain(authz.Json.GetProperty("challenges").EnumerateArray(), c => c.GetProperty("type").GetString() == "dns-01");
        var token = challenge.GetProperty("token").GetString()!;
        using var server = ServeHttp01(fixture.AcmeHttpPort, token, token + "." + AcmeTestClient.Thumbprint(client.Key));
        var started = await client.PostAsync(challenge.GetProperty("url").GetString()!, new { });
        Assert.Equal(HttpStatusCode.OK, started.Status);
        Assert.Contains(started.Links, l => l.Contains(authzUrl, StringComparison.Ordinal) && l.Contains("rel=\"up\"", StringComparison.Ordinal));
        Assert.Equal("1", started.RetryAfter);

        var ready = await PollAsync(client, orderUrl, "ready");
        var wrong = await client.PostAsync(ready.GetProperty("finalize").GetString()!, new { csr = Csr(leafKey, "127.0.0.1", "other.example.com") });
        Assert.Equal("badCSR", wrong.ProblemType);
        var accountKey = await client.PostAsync(ready.GetProperty("finalize").GetString()!, new { csr = Csr(client.Key, "127.0.0.1") });
        Assert.Equal("badCSR", accountKey.ProblemType);
        Assert.Contains("this account's key", accountKey.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var finalized = await client.PostAsync(ready.GetProperty("finalize").GetString()!, new { csr = Csr(leafKey, "127.0.0.1") });
        Assert.Equal(HttpStatusCode.OK, finalized.Status);
        Assert.Equal("valid", finalized.Json.GetProperty("status").GetString());
        var again = await client.PostAsync(ready.GetProperty("finalize").GetString()!, new { csr = Csr(leafKey, "127.0.0.1") });
        Assert.Equal("orderNotReady", again.ProblemType);

        var list = await client.PostAsync(client.Kid + "/orders", null);
        Assert.Contains(orderUrl, list.Json.GetProperty("orders").ToString(), StringComparison.Ordinal);

        var download = await client.PostAsync(finalized.Json.GetProperty("certificate").GetString()!, null);
        Assert.Equal("application/pem-certificate-chain", download.ContentType);
        var pems = download.Body.Split("-----END CERTIFICATE-----", StringSplitOptions.RemoveEmptyEntries).Where(p => p.Contains("BEGIN", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, pems.Count);
        using var leaf = X509Certificate2.CreateFromPem(pems[0] + "-----END CERTIFICATE-----");

        // Another account cannot read the order or the certificate.
        using var stranger = await NewAccountAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync(orderUrl, null)).Status);

        // Renewal information (RFC 9773), then revocation signed by the certificate's own key.
        var aki = leaf.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().Single().KeyIdentifier!.Value.ToArray();
        var ariId = AcmeTestClient.B64(aki) + "." + AcmeTestClient.B64(leaf.SerialNumberBytes.Span);
        using (var http = new HttpClient())
        {
            var ari = await http.GetAsync(client.Url("renewalInfo") + "/" + ariId);
            Assert.Equal(HttpStatusCode.OK, ari.StatusCode);
            Assert.Contains("suggestedWindow", await ari.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var byKey = new AcmeTestClient(fixture.BaseAddress, leafKey);
        await byKey.InitializeAsync();
        var revoked = await byKey.PostAsync(byKey.Url("revokeCert"), new { certificate = AcmeTestClient.B64(leaf.RawData), reason = 1 });
        Assert.Equal(HttpStatusCode.OK, revoked.Status);
        var twice = await client.PostAsync(client.Url("revokeCert"), new { certificate = AcmeTestClient.B64(leaf.RawData), reason = 1 });
        Assert.Equal("alreadyRevoked", twice.ProblemType);
        using var http2 = new HttpClient();
        var revokedWindow = await http2.GetStringAsync(client.Url("renewalInfo") + "/" + ariId);
        Assert.Contains("suggestedWindow", revokedWindow, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validation_InterruptedByARestart_ResumedAtStart()
    {
        using var client = await NewAccountAsync();
        var order = await client.PostAsync(client.Url("newOrder"), new { identifiers = new[] { new { type = "ip", value = "127.0.0.2" } } });
        var authz = await client.PostAsync(order.Json.GetProperty("authorizations")[0].GetString()!, null);
        var challenge = authz.Json.GetProperty("challenges").EnumerateArray().Single(c => c.GetProperty("type").GetString() == "http-01");
        var id = long.Parse(challenge.GetProperty("url").GetString()!.Split('/')[^1], System.Globalization.CultureInfo.InvariantCulture);

        // The process stopped right after the challenge moved to processing: nothing validates it any more.
        var store = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<MiniCa.Core.Acme.IAcmeStore>(fixture.Services);
        Assert.True(await store.BeginChallengeAsync(id, DateTimeOffset.UtcNow));
        var token = challenge.GetProperty("token").GetString()!;
        using var server = ServeHttp01(fixture.AcmeHttpPort, token, token + "." + AcmeTestClient.Thumbprint(client.Key), "127.0.0.2");
        var resumed = await Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<MiniCa.Acme.AcmeServer>(fixture.Services).ResumeAsync(CancellationToken.None);
        Assert.True(resumed >= 1);
        await PollAsync(client, order.Location!, "ready");
    }

    [Fact]
    public async Task NewOrder_OverTheHourlyLimit_RateLimitedWithRetryAfter()
    {
        var acme = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<MiniCa.Core.Configuration.CaOptions>(fixture.Services).Acme;
        var limit = acme.OrdersPerHour;
        acme.OrdersPerHour = 2;
        try
        {
            using var client = await NewAccountAsync();
            for (var i = 0; i < 2; i++)
            {
                var accepted = await client.PostAsync(client.Url("newOrder"), new { identifiers = new[] { new { type = "dns", value = $"rate{i}.example.com" } } });
                Assert.Equal(HttpStatusCode.Created, accepted.Status);
            }

            var refused = await client.PostAsync(client.Url("newOrder"), new { identifiers = new[] { new { type = "dns", value = "rate2.example.com" } } });
            Assert.Equal((HttpStatusCode)429, refused.Status);
            Assert.Equal("rateLimited", refused.ProblemType);
            Assert.NotNull(refused.RetryAfter);
        }
        finally
        {
            acme.OrdersPerHour = limit;
        }
    }

    [Fact]
    public async Task NewAccount_ExternalAccountRequiredAndMissing_Refused()
    {
        var acme = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<MiniCa.Core.Configuration.CaOptions>(fixture.Services).Acme;
        acme.ExternalAccountRequired = true;
        try
        {
            using var client = new AcmeTestClient(fixture.BaseAddress);
            await client.InitializeAsync();
            Assert.True(client.Directory.GetProperty("meta").GetProperty("externalAccountRequired").GetBoolean());
            var refused = await client.PostAsync(client.Url("newAccount"), new { termsOfServiceAgreed = true });
            Assert.Equal("externalAccountRequired", refused.ProblemType);

            // A binding MACed with a key the CA never made is refused too.
            var binding = AcmeTestClient.Jws(client.Key, new JsonObject { ["kid"] = "eab_unknown", ["url"] = client.Url("newAccount") }, AcmeTestClient.Jwk(client.Key).ToJsonString(), "HS256");
            var unknown = await client.PostAsync(client.Url("newAccount"), "{\"termsOfServiceAgreed\":true,\"externalAccountBinding\":" + binding + "}");
            Assert.Equal("unauthorized", unknown.ProblemType);
        }
        finally
        {
            acme.ExternalAccountRequired = false;
        }
    }

    /// <summary>
    /// A NUL character (U+0000) in an ACME payload's text: a problem document with a 400, never a 5xx. The
    /// externalAccountBinding's key id is looked up in the database as given: PostgreSQL refused the look-up, which
    /// answered 503 as an outage, before the database's guard (NulTextGuard) refused it as malformed.
    /// </summary>
    [Fact]
    public async Task Payloads_NulCharacter_400Problems()
    {
        using var client = new AcmeTestClient(fixture.BaseAddress);
        await client.InitializeAsync();
        var binding = AcmeTestClient.Jws(client.Key, new JsonObject { ["kid"] = "eab\u0000key", ["url"] = client.Url("newAccount") }, AcmeTestClient.Jwk(client.Key).ToJsonString(), "HS256");
        var eab = await client.PostAsync(client.Url("newAccount"), "{\"termsOfServiceAgreed\":true,\"externalAccountBinding\":" + binding + "}");
        Assert.True(eab.Status == HttpStatusCode.BadRequest, $"{(int)eab.Status}: {eab.Body}");
        Assert.Equal("malformed", eab.ProblemType);
        Assert.Contains("NUL character", eab.Body, StringComparison.Ordinal);

        var contact = await client.PostAsync(client.Url("newAccount"), new { termsOfServiceAgreed = true, contact = new[] { "mailto:ops\u0000@example.com" } });
        Assert.True(contact.Status == HttpStatusCode.BadRequest, $"{(int)contact.Status}: {contact.Body}");
        Assert.NotNull(contact.ProblemType);

        using var account = await NewAccountAsync();
        foreach (var order in new object[]
        {
            new { identifiers = new[] { new { type = "dns", value = "nul\u0000.example.com" } } },
            new { identifiers = new[] { new { type = "dns", value = "nul.example.com" } }, profile = "tls\u0000server" },
        })
        {
            var reply = await account.PostAsync(account.Url("newOrder"), order);
            Assert.True((int)reply.Status is >= 400 and < 500, $"{(int)reply.Status}: {reply.Body}");
            Assert.NotNull(reply.ProblemType);
        }
    }

    [Fact]
    public async Task Account_DeactivatedThenUsed_Unauthorized()
    {
        using var client = await NewAccountAsync();
        var deactivated = await client.PostAsync(client.Kid!, new { status = "deactivated" });
        Assert.Equal("deactivated", deactivated.Json.GetProperty("status").GetString());
        var after = await client.PostAsync(client.Url("newOrder"), new { identifiers = new[] { new { type = "dns", value = "after.example.com" } } });
        Assert.Equal("unauthorized", after.ProblemType);
    }

    [Fact]
    public async Task KeyChange_RolledOver_OldKeyNoLongerSigns()
    {
        using var client = await NewAccountAsync();
        using var newKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var url = client.Url("keyChange");
        var inner = AcmeTestClient.Jws(newKey, new JsonObject { ["jwk"] = AcmeTestClient.Jwk(newKey), ["url"] = url },
            new JsonObject { ["account"] = client.Kid, ["oldKey"] = AcmeTestClient.Jwk(client.Key) }.ToJsonString());
        var changed = await client.PostAsync(url, inner);
        Assert.Equal(HttpStatusCode.OK, changed.Status);
        var old = await client.PostAsync(client.Kid!, null);
        Assert.Equal("malformed", old.ProblemType);
        var renewed = await client.PostAsync(client.Kid!, null, signer: newKey);
        Assert.Equal(HttpStatusCode.OK, renewed.Status);
    }

    private static async Task<System.Text.Json.JsonElement> PollAsync(AcmeTestClient client, string url, string status)
    {
        for (var i = 0; i < 100; i++)
        {
            var reply = await client.PostAsync(url, null);
            var current = reply.Json.GetProperty("status").GetString();
            if (current == status)
            {
                return reply.Json;
            }

            Assert.NotEqual("invalid", current);
            await Task.Delay(100);
        }

        throw new TimeoutException($"{url} never became {status}");
    }

    private static string Csr(ECDsa key, params string[] names)
    {
        var request = new CertificateRequest("CN=" + names[0], key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var ip))
            {
                san.AddIpAddress(ip);
            }
            else
            {
                san.AddDnsName(name);
            }
        }

        request.CertificateExtensions.Add(san.Build());
        return AcmeTestClient.B64(request.CreateSigningRequest());
    }

    /// <summary>Answers the http-01 request on the validation port, as a subscriber's web server would.</summary>
    private static HttpListener ServeHttp01(int port, string token, string keyAuthorization, string address = "127.0.0.1")
    {
        var listener = new HttpListener();
        listener.Prefixes.Add($"http://{address}:{port}/.well-known/acme-challenge/");
        listener.Start();
        _ = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                try
                {
                    var context = await listener.GetContextAsync();
                    var body = context.Request.Url!.AbsolutePath.EndsWith(token, StringComparison.Ordinal) ? Encoding.ASCII.GetBytes(keyAuthorization) : [];
                    context.Response.StatusCode = body.Length > 0 ? 200 : 404;
                    await context.Response.OutputStream.WriteAsync(body);
                    context.Response.Close();
                }
                catch (HttpListenerException)
                {
                    return;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
            }
        });
        return listener;
    }
}
