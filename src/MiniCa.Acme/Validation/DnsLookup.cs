using System.Net;
using DnsClient;
using MiniCa.Core.Configuration;

namespace MiniCa.Acme.Validation;

/// <summary>
/// Name resolution for validation: the configured resolver (<c>Acme:Validation:DnsResolver</c>) or the system's.
/// No cache: a validation sees the records as they are now.
/// </summary>
internal sealed class DnsLookup
{
    private readonly LookupClient _client;
    private readonly bool _system;

    public DnsLookup(CaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var validation = options.Acme.Validation;
        LookupClientOptions settings;
        if (!string.IsNullOrWhiteSpace(validation.DnsResolver) && CaOptionsValidator.TryParseEndpoint(validation.DnsResolver, out var host, out var port))
        {
            var address = IPAddress.TryParse(host, out var ip) ? ip : Dns.GetHostAddresses(host)[0];
            settings = new LookupClientOptions(new NameServer(address, port));
        }
        else
        {
            settings = new LookupClientOptions();
            _system = true;
        }

        settings.UseCache = false;
        settings.Timeout = TimeSpan.FromSeconds(Math.Min(5, validation.TimeoutSeconds));
        settings.Retries = 1;
        settings.ThrowDnsErrors = false;
        settings.UseTcpFallback = true;
        _client = new LookupClient(settings);
    }

    /// <summary>A and AAAA addresses of <paramref name="name"/> (IPv4 first); empty when there are none.</summary>
    public async Task<IReadOnlyList<IPAddress>> AddressesAsync(string name, CancellationToken cancellationToken)
    {
        if (_system)
        {
            // The system resolver also reads /etc/hosts, as an operator expects.
            try
            {
                return (await Dns.GetHostAddressesAsync(name, cancellationToken)).OrderBy(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 0 : 1).ToList();
            }
            catch (System.Net.Sockets.SocketException)
            {
                return [];
            }
        }

        var v4 = await _client.QueryAsync(name, QueryType.A, QueryClass.IN, cancellationToken);
        var v6 = await _client.QueryAsync(name, QueryType.AAAA, QueryClass.IN, cancellationToken);
        return v4.Answers.ARecords().Select(r => r.Address).Concat(v6.Answers.AaaaRecords().Select(r => r.Address)).ToList();
    }

    /// <summary>The TXT strings at <paramref name="name"/>.</summary>
    public async Task<IReadOnlyList<string>> TextAsync(string name, CancellationToken cancellationToken)
    {
        var result = await _client.QueryAsync(name, QueryType.TXT, QueryClass.IN, cancellationToken);
        if (result.HasError && result.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain)
        {
            throw new AcmeException("dns", $"DNS lookup of TXT {name} failed: {result.ErrorMessage}.");
        }

        return result.Answers.TxtRecords().SelectMany(r => r.Text).ToList();
    }
}
