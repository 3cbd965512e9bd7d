using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace MiniCa.Core.Ledger;

/// <summary>One audit event as the chain reads it: every stored field.</summary>
public sealed record AuditChainEvent(long Id, DateTimeOffset At, string Actor, string Action, string Subject, string Details);

/// <summary>
/// A point of the audit log's hash chain kept outside the CA (a ticket, a log shipper, a SIEM): the chain's value
/// after event <see cref="EventId"/>. Written and read as <c>ID:HEX</c>.
/// </summary>
public sealed record AuditAnchor(long EventId, string Hash)
{
    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

    /// <summary>Reads <c>ID:HEX</c> (a decimal event id, a colon, 64 hex digits); <see langword="null"/> when it is not that.</summary>
    public static AuditAnchor? Parse(string? text)
    {
        var colon = text?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        if (colon <= 0
            || !long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            || id < 1
            || text!.Length - colon - 1 != 2 * SHA256.HashSizeInBytes
            || text.AsSpan(colon + 1).ContainsAnyExcept(HexDigits))
        {
            return null;
        }

        return new AuditAnchor(id, text[(colon + 1)..].ToLowerInvariant());
    }

    /// <summary>The anchor as written: <c>ID:HEX</c>.</summary>
    public override string ToString() => $"{EventId.ToString(CultureInfo.InvariantCulture)}:{Hash}";
}

/// <summary>
/// The audit log's hash chain (version 1), which makes a change to the stored log evident against an anchor taken
/// earlier. The chain starts at SHA-256 of the ASCII text <c>MiniCa audit chain v1</c>; each event, in id order, moves
/// it to SHA-256(the value before || the event's id as a big-endian int64 || its time as a big-endian int64 of
/// microseconds since 1970-01-01 UTC || its actor, action, subject and details, each as a big-endian uint32 byte
/// count and its UTF-8 bytes). Changing, removing or inserting any event up to an anchor's changes the chain's
/// value there. The chain is computed from the stored log when it is verified (<c>minica audit verify</c>), so
/// writing an event costs nothing more; it proves nothing before the first anchor kept outside the CA.
/// </summary>
public static class AuditChain
{
    private static readonly byte[] Origin = SHA256.HashData("MiniCa audit chain v1"u8);

    /// <summary>The chain's value before the first event.</summary>
    public static ReadOnlySpan<byte> Start => Origin;

    /// <summary>The chain's value after <paramref name="e"/>, from its value <paramref name="before"/> it.</summary>
    public static byte[] Next(ReadOnlySpan<byte> before, AuditChainEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(before);
        Span<byte> number = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64BigEndian(number, e.Id);
        hash.AppendData(number);
        BinaryPrimitives.WriteInt64BigEndian(number, (e.At.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond);
        hash.AppendData(number);
        foreach (var text in (ReadOnlySpan<string>)[e.Actor, e.Action, e.Subject, e.Details])
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            BinaryPrimitives.WriteUInt32BigEndian(number, (uint)bytes.Length);
            hash.AppendData(number[..sizeof(uint)]);
            hash.AppendData(bytes);
        }

        return hash.GetHashAndReset();
    }

    /// <summary>
    /// Runs the chain over <paramref name="events"/> (the whole log, in id order; or, from <paramref name="from"/>, the
    /// events after its event), checks each of <paramref name="anchors"/>, and names the settled head: the newest
    /// event written at or before <paramref name="settledBefore"/>, with the chain's value there, to be kept as the
    /// next anchor (<paramref name="from"/> while no later event is settled). On PostgreSQL a transaction may commit
    /// after another that took a later id; an anchor at an event some minutes old is not overtaken by a late event
    /// below it.
    /// </summary>
    public static async Task<AuditChainReport> VerifyAsync(
        IAsyncEnumerable<AuditChainEvent> events, IReadOnlyCollection<AuditAnchor> anchors, DateTimeOffset settledBefore, AuditAnchor? from = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(anchors);
        if (from is not null && anchors.Any(a => a.EventId <= from.EventId))
        {
            throw new ArgumentException($"An anchor at or before event {from.EventId}, where the chain starts, cannot be checked.", nameof(anchors));
        }

        // By event id: the smallest first, to tell when the chain has passed an anchor's event.
        var wanted = new SortedDictionary<long, List<AuditAnchor>>(anchors.GroupBy(a => a.EventId).ToDictionary(g => g.Key, g => g.ToList()));
        var results = new List<AuditAnchorCheck>();
        var value = from is null ? Origin : Convert.FromHexString(from.Hash);
        long count = 0, newer = 0;
        var head = from;
        DateTimeOffset? headAt = null;
        AuditChainEvent? last = null;
        await foreach (var e in events.WithCancellation(cancellationToken))
        {
            if (e.Id <= (last?.Id ?? from?.EventId ?? long.MinValue))
            {
                throw new ArgumentException($"The audit events are not in id order after event {last?.Id ?? from?.EventId}: {e.Id}.", nameof(events));
            }

            // An anchor whose event is gone: the chain passed its id without stopping there.
            while (wanted.Count > 0 && wanted.First() is { Key: var id } passed && id < e.Id)
            {
                results.AddRange(passed.Value.Select(a => new AuditAnchorCheck(a, false, $"event {id} is no longer in the audit log (removed)")));
                wanted.Remove(id);
            }

            value = Next(value, e);
            count++;
            if (e.At <= settledBefore)
            {
                head = new AuditAnchor(e.Id, Convert.ToHexStringLower(value));
                headAt = e.At;
                newer = 0;
            }
            else
            {
                newer++;
            }

            if (wanted.Remove(e.Id, out var here))
            {
                var found = Convert.ToHexStringLower(value);
                results.AddRange(here.Select(a => a.Hash == found
                    ? new AuditAnchorCheck(a, true, null)
                    : new AuditAnchorCheck(a, false, $"up to event {e.Id} the log now hashes to {found}: an event up to {e.Id} was changed, removed or inserted since the anchor was taken")));
            }

            last = e;
        }

        foreach (var (id, rest) in wanted)
        {
            results.AddRange(rest.Select(a => new AuditAnchorCheck(a, false, last is null
                ? "the audit log is empty"
                : $"the audit log ends at event {last.Id}, before event {id} (events removed from its end)")));
        }

        return new AuditChainReport(count, head, headAt, newer, results.OrderBy(r => r.Anchor.EventId).ToList());
    }
}

/// <summary>What <see cref="AuditChain.VerifyAsync"/> found.</summary>
/// <param name="Events">How many events the chain ran over.</param>
/// <param name="Head">The settled head as an anchor to keep; <see langword="null"/> when no event is settled yet.</param>
/// <param name="HeadAt">When the head's event was written (<see langword="null"/> while the head is the anchor the chain started from).</param>
/// <param name="NewerEvents">Events after the head (not settled yet, or none).</param>
/// <param name="Anchors">Each anchor given, in event order, and whether the log still matches it.</param>
public sealed record AuditChainReport(long Events, AuditAnchor? Head, DateTimeOffset? HeadAt, long NewerEvents, IReadOnlyList<AuditAnchorCheck> Anchors)
{
    /// <summary>True when every anchor holds.</summary>
    public bool Intact => Anchors.All(a => a.Holds);
}

/// <summary>One anchor's outcome: it holds, or <see cref="Problem"/> says how the log differs.</summary>
public sealed record AuditAnchorCheck(AuditAnchor Anchor, bool Holds, string? Problem);
