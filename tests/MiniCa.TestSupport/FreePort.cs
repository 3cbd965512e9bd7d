using System.Net;
using System.Net.Sockets;

namespace MiniCa.TestSupport;

/// <summary>
/// Loopback TCP ports for the tests' servers and challenge listeners. A port is often bound minutes after it is
/// chosen (an ACME client's challenge port is chosen when the fixture starts), so it is taken from below the
/// kernel's ephemeral range: a port from inside it (what binding port 0 gives) may meanwhile become the local port
/// of any outgoing connection on the machine, and the late bind then fails with "address already in use". Each
/// process walks the range from a random start, so that test processes running side by side rarely meet.
/// </summary>
public static class FreePort
{
    private const int Lowest = 10_000;

    private static readonly (int Low, int High) Range = ChooseRange();
    private static int _next = Range.Low + Random.Shared.Next(Range.High - Range.Low);

    /// <summary>A loopback TCP port that was free a moment ago and that outgoing connections do not take.</summary>
    public static int Next()
    {
        for (var tries = 0; tries < 1000; tries++)
        {
            var port = Interlocked.Increment(ref _next);
            port = Range.Low + ((port - Range.Low) % (Range.High - Range.Low));
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: the next one.
            }
        }

        using var any = new TcpListener(IPAddress.Loopback, 0);
        any.Start();
        return ((IPEndPoint)any.LocalEndpoint).Port;
    }

    /// <summary>From <see cref="Lowest"/> to just below the ephemeral range (Linux's ip_local_port_range).</summary>
    private static (int Low, int High) ChooseRange()
    {
        try
        {
            var bounds = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            var ephemeralLow = int.Parse(bounds[0], System.Globalization.CultureInfo.InvariantCulture);
            if (ephemeralLow - Lowest >= 2_000)
            {
                return (Lowest, ephemeralLow);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // Not Linux, or unreadable: the usual default.
        }

        return (Lowest, 32_768);
    }
}
