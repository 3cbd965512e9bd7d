using MiniCa.Core.Configuration;

namespace MiniCa.Acme;

/// <summary>The ACME resource URLs, all under <c>{PublicBaseUrl}/acme/</c>.</summary>
internal sealed class AcmeUrls(CaOptions options)
{
    private readonly string _base = options.PublicBaseUri + "acme/";

    public string Directory => _base + "directory";

    public string NewNonce => _base + "new-nonce";

    public string NewAccount => _base + "new-account";

    public string NewOrder => _base + "new-order";

    public string RevokeCert => _base + "revoke-cert";

    public string KeyChange => _base + "key-change";

    public string RenewalInfo => _base + "renewal-info";

    public string Account(long id) => $"{_base}acct/{id}";

    public string Orders(long id) => $"{_base}acct/{id}/orders";

    public string Order(long id) => $"{_base}order/{id}";

    public string Finalize(long id) => $"{_base}order/{id}/finalize";

    public string Authorization(long id) => $"{_base}authz/{id}";

    public string Challenge(long id) => $"{_base}chall/{id}";

    public string Certificate(string serial) => $"{_base}cert/{serial}";

    /// <summary>The account number in a <c>kid</c>, or <see langword="null"/> when it is not one of our account URLs.</summary>
    public long? AccountId(string kid)
    {
        var prefix = _base + "acct/";
        return kid.StartsWith(prefix, StringComparison.Ordinal) && long.TryParse(kid.AsSpan(prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : null;
    }

    /// <summary>The URL a request was made to, as the client must have signed it (RFC 8555 §6.4).</summary>
    public string For(string path) => options.PublicBaseUri + path.TrimStart('/');
}
