// CA5359: see AcceptAnyCertificate.
#pragma warning disable CA5359
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;
using MiniCa.Acme.Jws;
using MiniCa.Core.Acme;
using MiniCa.Core.Configuration;

namespace MiniCa.Acme.Validation;

/// <summary>
/// Validates http-01 (RFC 8555 §8.3), dns-01 (§8.4) and tls-alpn-01 (RFC 8737) against the ports and resolver of
/// <c>Acme:Validation</c>. Bounded in time and size; never connects to link-local or metadata addresses; follows
/// http-01 redirects only to http/https on the validation ports or 80/443.
/// </summary>
internal sealed class ChallengeValidator(CaOptions options, DnsLookup dns, ILogger<ChallengeValidator> logger)
{
    private const int MaxBody = 8 * 1024;
    private const int MaxRedirects = 10;
    private static readonly Oid AcmeIdentifierOid = new("1.3.6.1.5.5.7.1.31");

    private readonly AcmeValidationOptions _settings = options.Acme.Validation;

    /// <summary>The key authorization of RFC 8555 §8.1: token "." thumbprint.</summary>
    public static string KeyAuthorization(string token, string thumbprint) => token + "." + thumbprint;

    /// <summary>Validates; returns <see langword="null"/> when it passed, otherwise the problem (type, detail).</summary>
    public async Task<(string Type, string Detail)?> ValidateAsync(AcmeAuthorization authorization, AcmeChallenge challenge, string thumbprint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(authorization);
        ArgumentNullException.ThrowIfNull(challenge);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_settings.TimeoutSeconds));
        var keyAuthorization = KeyAuthorization(challenge.Token, thumbprint);
        try
        {
            return challenge.Type switch
            {
                "http-01" => await Http01Async(authorization.Identifier, challenge.Token, keyAuthorization, timeout.Token),
                "dns-01" => await Dns01Async(authorization.Identifier.Value, keyAuthorization, timeout.Token),
                "tls-alpn-01" => await TlsAlpn01Async(authorization.Identifier, keyAuthorization, timeout.Token),
                _ => ("malformed", $"Challenge type {challenge.Type} is not supported."),
            };
        }
        catch (AcmeException ex)
        {
            return (ex.Type, ex.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ("connection", $"Validation of {authorization.Identifier.Value} timed out after {_settings.TimeoutSeconds} s.");
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException or IOException or AuthenticationException)
        {
            logger.LogInformation("Validation of {Identifier} by {Type} failed: {Error}", authorization.Identifier, challenge.Type, ex.Message);
            return ("connection", $"Could not reach {authorization.Identifier.Value}: {ex.Message}");
        }
    }

    private async Task<(string, string)?> Http01Async(AcmeIdentifier identifier, string token, string keyAuthorization, CancellationToken cancellationToken)
    {
        var url = new Uri($"http://{HostForUrl(identifier)}:{_settings.HttpPort}/.well-known/acme-challenge/{token}");
        using var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            ConnectTimeout = TimeSpan.FromSeconds(_settings.TimeoutSeconds),
            ConnectCallback = (context, ct) => ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, ct),
            // A redirect to https is followed without checking the certificate (RFC 8555 §8.3 does not ask for it).
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = AcceptAnyCertificate },
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(_settings.TimeoutSeconds) };
        for (var hop = 0; hop <= MaxRedirects; hop++)
        {
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                var next = location.IsAbsoluteUri ? location : new Uri(url, location);
                var allowed = (next.Scheme == Uri.UriSchemeHttp && (next.Port == 80 || next.Port == _settings.HttpPort))
                              || (next.Scheme == Uri.UriSchemeHttps && (next.Port == 443 || next.Port == _settings.TlsPort));
                if (!allowed)
                {
                    return ("connection", $"Redirect to {next.GetLeftPart(UriPartial.Authority)} refused: only http on port {_settings.HttpPort} or 80 and https on {_settings.TlsPort} or 443 are followed.");
                }

                url = next;
                continue;
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                return ("unauthorized", $"{url} answered {(int)response.StatusCode}.");
            }

            var body = await ReadBoundedAsync(response, cancellationToken);
            return body.Trim() == keyAuthorization ? null : ("unauthorized", $"{url} did not return the key authorization.");
        }

        return ("connection", $"More than {MaxRedirects} redirects.");
    }

    private async Task<(string, string)?> Dns01Async(string domain, string keyAuthorization, CancellationToken cancellationToken)
    {
        var expected = Base64Url.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(keyAuthorization)));
        var name = "_acme-challenge." + domain;
        var records = await dns.TextAsync(name, cancellationToken);
        return records.Contains(expected, StringComparer.Ordinal)
            ? null
            : ("unauthorized", records.Count == 0 ? $"No TXT record at {name}." : $"None of the {records.Count} TXT record(s) at {name} is the expected digest.");
    }

    private async Task<(string, string)?> TlsAlpn01Async(AcmeIdentifier identifier, string keyAuthorization, CancellationToken cancellationToken)
    {
        await using var stream = new NetworkStream(await ConnectSocketAsync(HostForConnect(identifier), _settings.TlsPort, cancellationToken), ownsSocket: true);
        await using var tls = new SslStream(stream);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            // RFC 8737 §3: SNI is the name; for an IP identifier, the reverse-DNS name (RFC 8738 §6).
            TargetHost = identifier.Type == "ip" ? ReverseName(IPAddress.Parse(identifier.Value)) : identifier.Value,
            ApplicationProtocols = [new SslApplicationProtocol("acme-tls/1"u8.ToArray())],
            RemoteCertificateValidationCallback = AcceptAnyCertificate,
        }, cancellationToken);
        if (tls.NegotiatedApplicationProtocol.ToString() != "acme-tls/1")
        {
            return ("unauthorized", "The server did not negotiate the acme-tls/1 protocol.");
        }

        using var certificate = tls.RemoteCertificate is { } remote ? new X509Certificate2(remote) : null;
        if (certificate is null)
        {
            return ("unauthorized", "The server presented no certificate.");
        }

        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SingleOrDefault();
        var names = san?.EnumerateDnsNames().ToList() ?? [];
        var addresses = san?.EnumerateIPAddresses().ToList() ?? [];
        var matches = identifier.Type == "ip"
            ? names.Count == 0 && addresses.Count == 1 && addresses[0].Equals(IPAddress.Parse(identifier.Value))
            : addresses.Count == 0 && names.Count == 1 && string.Equals(names[0], identifier.Value, StringComparison.OrdinalIgnoreCase);
        if (!matches)
        {
            return ("unauthorized", $"The validation certificate must name exactly {identifier.Value} in its subjectAltName.");
        }

        var extension = certificate.Extensions[AcmeIdentifierOid.Value!];
        var digest = SHA256.HashData(Encoding.ASCII.GetBytes(keyAuthorization));
        var expected = new byte[] { 0x04, 0x20 }.Concat(digest).ToArray();
        return extension is { Critical: true } && extension.RawData.AsSpan().SequenceEqual(expected)
            ? null
            : ("unauthorized", "The validation certificate has no critical acmeIdentifier extension with the expected digest (RFC 8737 §3).");
    }

    // RFC 8737 §3: the tls-alpn-01 certificate is self-signed by design, and RFC 8555 §8.3 does not ask for a
    // trusted certificate after a redirect to https: what is checked is the key authorization, not the chain.
    private static bool AcceptAnyCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) => true;

    private async ValueTask<Stream> ConnectAsync(string host, int port, CancellationToken cancellationToken) =>
        new NetworkStream(await ConnectSocketAsync(host, port, cancellationToken), ownsSocket: true);

    private async Task<Socket> ConnectSocketAsync(string host, int port, CancellationToken cancellationToken)
    {
        IReadOnlyList<IPAddress> addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await dns.AddressesAsync(host, cancellationToken);
        if (addresses.Count == 0)
        {
            throw new AcmeException("dns", $"{host} has no A or AAAA record.");
        }

        var refusals = addresses.Select(AddressPolicy.Refuse).Where(r => r is not null).ToList();
        var usable = addresses.Where(a => AddressPolicy.Refuse(a) is null).ToList();
        if (usable.Count == 0)
        {
            throw new AcmeException("rejectedIdentifier", $"{host} resolves only to addresses validation does not connect to: {string.Join("; ", refusals)}.");
        }

        SocketException? last = null;
        foreach (var address in usable)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken);
                return socket;
            }
            catch (SocketException ex)
            {
                last = ex;
                socket.Dispose();
            }
        }

        throw last!;
    }

    private static async Task<string> ReadBoundedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxBody + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += read;
        }

        if (total > MaxBody)
        {
            throw new AcmeException("unauthorized", $"The challenge response is larger than {MaxBody} bytes.");
        }

        return Encoding.UTF8.GetString(buffer, 0, total);
    }

    private static string HostForUrl(AcmeIdentifier identifier) =>
        identifier.Type == "ip" && IPAddress.Parse(identifier.Value).AddressFamily == AddressFamily.InterNetworkV6 ? $"[{identifier.Value}]" : identifier.Value;

    private static string HostForConnect(AcmeIdentifier identifier) => identifier.Value;

    private static string ReverseName(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork
        ? string.Join('.', address.GetAddressBytes().Reverse()) + ".in-addr.arpa"
        : string.Join('.', Convert.ToHexStringLower(address.GetAddressBytes()).Reverse()) + ".ip6.arpa";
}
