using System.Net;
using System.Net.Sockets;

namespace MiniCa.Acme.Validation;

/// <summary>
/// Which addresses validation may connect to. An internal CA validates names on private networks and (in tests)
/// loopback, so those are allowed; link-local and cloud metadata addresses never are (a client must not be able
/// to make the CA fetch http://169.254.169.254/ for it), nor unspecified, multicast or broadcast ones.
/// </summary>
internal static class AddressPolicy
{
    private static readonly IPAddress[] Metadata =
    [
        IPAddress.Parse("169.254.169.254"), // AWS, Azure, GCP, OpenStack
        IPAddress.Parse("100.100.100.200"), // Alibaba Cloud
        IPAddress.Parse("fd00:ec2::254"), // AWS over IPv6
    ];

    /// <summary>Why <paramref name="address"/> is refused, or <see langword="null"/> when it is allowed.</summary>
    public static string? Refuse(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (Metadata.Contains(address))
        {
            return $"{address} is a cloud metadata address";
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] == 169 && b[1] == 254 ? $"{address} is link-local"
                : b[0] == 0 ? $"{address} is not a host address"
                : b[0] >= 224 ? $"{address} is multicast or reserved"
                : null;
        }

        return address.IsIPv6LinkLocal ? $"{address} is link-local"
            : address.IsIPv6Multicast ? $"{address} is multicast"
            : address.Equals(IPAddress.IPv6None) || address.Equals(IPAddress.IPv6Any) ? $"{address} is not a host address"
            : null;
    }
}
