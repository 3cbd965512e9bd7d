using System.Net;
using System.Net.Sockets;

namespace MiniCa.Web;

/// <summary>
/// Checks the configured <c>Urls</c> before anything starts, so that a mistyped URL or a port another process holds
/// is one line naming the key and the address, not Kestrel's exception and stack trace once the CA is half up.
/// </summary>
internal static class ListenAddresses
{
    /// <summary>Every problem with <paramref name="urls"/> (semicolon-separated), each naming the key; empty when none.</summary>
    /// <param name="urls">The configured <c>Urls</c>.</param>
    /// <param name="hasServerCertificate">Whether <c>Kestrel:Certificates:Default</c> gives https endpoints a certificate.</param>
    public static IReadOnlyList<string> Check(string urls, bool hasServerCertificate)
    {
        var problems = new List<string>();
        var entries = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (entries.Length == 0)
        {
            problems.Add("Urls: no URL to listen on (for example http://localhost:5000).");
        }

        foreach (var url in entries)
        {
            if (Problem(url, hasServerCertificate) is { } problem)
            {
                problems.Add($"Urls: '{url}' {problem}");
            }
        }

        return problems;
    }

    private static string? Problem(string url, bool hasServerCertificate)
    {
        BindingAddress address;
        try
        {
            // Kestrel's own parser, so that what passes here is read the same way there.
            address = BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            return "is not a URL to listen on (scheme://host:port, for example http://localhost:5000).";
        }

        if (address.Scheme is not ("http" or "https"))
        {
            return $"has the scheme '{address.Scheme}'; the host listens on http or https.";
        }

        if (address.Scheme == "https" && !hasServerCertificate)
        {
            // Kestrel would fall back to a developer certificate, which a CA's portal must not serve.
            return "is https, and no server certificate is configured: set Kestrel:Certificates:Default:Path (with KeyPath, or Password for a PKCS#12 file), or listen on http behind a TLS proxy.";
        }

        if (address.IsUnixPipe || address.IsNamedPipe)
        {
            return null;
        }

        if (!string.IsNullOrEmpty(address.PathBase) && address.PathBase != "/")
        {
            return "has a path; the host listens at the root (serve it under a path through a reverse proxy).";
        }

        if (address.Port is < 0 or > 65535)
        {
            return $"has the port {address.Port}, out of range (0..65535).";
        }

        var host = address.Host;
        if (host is not ("*" or "+") && Uri.CheckHostName(host.TrimStart('[').TrimEnd(']')) == UriHostNameType.Unknown)
        {
            return $"has the host '{host}', which is neither a name, an IP address, '*' nor '+'.";
        }

        return address.Port == 0 ? null : Busy(host, address.Port);
    }

    /// <summary>Whether the port can be bound where Kestrel will bind it; a socket is bound and closed at once.</summary>
    private static string? Busy(string host, int port)
    {
        IPAddress[] addresses = host switch
        {
            "localhost" => [IPAddress.Loopback, IPAddress.IPv6Loopback],
            _ when IPAddress.TryParse(host.TrimStart('[').TrimEnd(']'), out var literal) => [literal],
            // '*', '+' and names: Kestrel listens on every interface.
            _ => [IPAddress.Any],
        };
        foreach (var ip in addresses)
        {
            try
            {
                using var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                // As Kestrel binds on Unix: connections of an earlier run still in TIME_WAIT do not hold the port.
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                socket.Bind(new IPEndPoint(ip, port));
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                return $"cannot be listened on: port {port} is in use by another process{(ip.Equals(IPAddress.Any) ? string.Empty : $" on {ip}")}.";
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AccessDenied)
            {
                return $"cannot be listened on: port {port} needs privileges (below 1024: root or CAP_NET_BIND_SERVICE).";
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressNotAvailable && ip.Equals(IPAddress.IPv6Loopback))
            {
                // No IPv6 on this machine: Kestrel then listens on the IPv4 loopback alone.
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressNotAvailable)
            {
                return $"cannot be listened on: {ip} is not an address of this machine.";
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressFamilyNotSupported)
            {
                // IPv6 disabled: as above.
            }
        }

        return null;
    }
}
