using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary>
/// <c>minica audit verify</c> on a real CA's SQLite database: the anchor it prints is the chain the README describes
/// (recomputed here from the raw rows, apart from the CA's code), and a change to the stored log is found.
/// </summary>
public sealed partial class CliAuditTests
{
    [Fact]
    public async Task AuditVerify_AnchorMatchesTheRowsAndCatchesTampering()
    {
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-cli-audit");
        var database = await NewCaAsync(directory, "audited.example.com");

        // Every event was written just now: none is settled for the default five minutes.
        var fresh = await Minica.RunAsync(directory.Path, ["audit", "verify"]);
        Assert.True(fresh.ExitCode == 0, fresh.Combined);
        Assert.Contains("No anchor yet: no event was written 300 s or more ago.", fresh.StandardOutput, StringComparison.Ordinal);

        var taken = await Minica.RunAsync(directory.Path, ["audit", "verify", "--settled-for", "0"]);
        Assert.True(taken.ExitCode == 0, taken.Combined);
        var anchor = AnchorLine().Match(taken.StandardOutput).Groups[1].Value;
        Assert.Equal(await ChainOfTheRowsAsync(database), anchor);
        var events = long.Parse(anchor[..anchor.IndexOf(':', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(events >= 4, taken.StandardOutput);

        // Events written since leave the anchor as it was.
        await Minica.IssueForNewKeyAsync(directory.Path, "later.example.com");
        var holds = await Minica.RunAsync(directory.Path, ["audit", "verify", "--anchor", anchor, "--settled-for", "0"]);
        Assert.True(holds.ExitCode == 0, holds.Combined);
        Assert.Contains($"Anchor {anchor} holds", holds.StandardOutput, StringComparison.Ordinal);
        Assert.NotEqual(anchor, AnchorLine().Match(holds.StandardOutput).Groups[1].Value);

        // One character of one event's details changed: found; changed back: the anchor holds again.
        var details = await ScalarAsync(database, "SELECT Details FROM AuditEvents WHERE Id = 2");
        await ExecuteAsync(database, "UPDATE AuditEvents SET Details = Details || '.' WHERE Id = 2");
        var changed = await Minica.RunAsync(directory.Path, ["audit", "verify", "--anchor", anchor]);
        Assert.Equal(1, changed.ExitCode);
        Assert.Contains($"minica: error: The audit log does not match anchor {anchor}: up to event {events} the log now hashes to ", changed.StandardError, StringComparison.Ordinal);
        Assert.Contains("was changed, removed or inserted since the anchor was taken", changed.StandardError, StringComparison.Ordinal);
        await ExecuteAsync(database, "UPDATE AuditEvents SET Details = $details WHERE Id = 2", ("$details", details));
        Assert.Equal(0, (await Minica.RunAsync(directory.Path, ["audit", "verify", "--anchor", anchor])).ExitCode);

        // The anchor's own event removed.
        await ExecuteAsync(database, $"DELETE FROM AuditEvents WHERE Id = {events}");
        var removed = await Minica.RunAsync(directory.Path, ["audit", "verify", "--anchor", anchor]);
        Assert.Equal(1, removed.ExitCode);
        Assert.Contains($"event {events} is no longer in the audit log (removed)", removed.StandardError, StringComparison.Ordinal);

        var malformed = await Minica.RunAsync(directory.Path, ["audit", "verify", "--anchor", anchor[..^1]]);
        Assert.Equal(64, malformed.ExitCode);
        Assert.Contains("is not ID:HASH", malformed.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditSign_StoresAnAnchorSignedInTheHsm_OpenSslVerifiesIt_VerifyCatchesChangesAndForgeries()
    {
        Prerequisites.RequireSoftHsm();
        var pkcs11Tool = Prerequisites.RequireProgram("pkcs11-tool", "opensc");
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        using var directory = new TempDirectory("minica-cli-audit-sign");
        var database = await NewCaAsync(directory, "signed.example.com");

        var none = await Minica.RunAsync(directory.Path, ["audit", "verify"]);
        Assert.True(none.ExitCode == 0, none.Combined);
        Assert.Contains("Signed anchors: none in the log yet", none.StandardOutput, StringComparison.Ordinal);
        var noKey = await Minica.RunAsync(directory.Path, ["audit", "key"]);
        Assert.NotEqual(0, noKey.ExitCode);
        Assert.Contains("The HSM holds no audit key 'audit' yet", noKey.StandardError, StringComparison.Ordinal);

        // Signed: the anchor is the rows' chain, and it is stored as the next event.
        var sign = await Minica.RunAsync(directory.Path, ["audit", "sign", "--settled-for", "0"]);
        Assert.True(sign.ExitCode == 0, sign.Combined);
        var signedLine = SignedLine().Match(sign.StandardOutput);
        Assert.True(signedLine.Success, sign.StandardOutput);
        var anchor = signedLine.Groups[1].Value;
        var anchored = long.Parse(anchor[..anchor.IndexOf(':', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
        Assert.Equal(await ChainUpToAsync(database, anchored), anchor);
        var holder = anchored + 1;
        Assert.Equal(holder.ToString(CultureInfo.InvariantCulture), (await ChainOfTheRowsAsync(database)).Split(':')[0]);
        Assert.Equal("audit.anchor.signed", await ScalarAsync(database, $"SELECT Action FROM AuditEvents WHERE Id = {holder}"));
        var details = await ScalarAsync(database, $"SELECT Details FROM AuditEvents WHERE Id = {holder}");
        Assert.StartsWith($"anchor={anchor} signed-at=", details, StringComparison.Ordinal);

        // Nothing but the signed anchor since: nothing new to sign.
        var again = await Minica.RunAsync(directory.Path, ["audit", "sign", "--settled-for", "0"]);
        Assert.True(again.ExitCode == 0, again.Combined);
        Assert.Contains("Nothing new to sign", again.StandardOutput, StringComparison.Ordinal);

        // OpenSSL, given the key read out of the token by pkcs11-tool and the signed bytes as the README lays them
        // out, verifies the signature; the key is the token's own, sensitive and never extractable.
        var fields = details.Split(' ').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]);
        Assert.Equal("audit", fields["key"]);
        Assert.Equal("EcdsaSha256", fields["algorithm"]);
        var signedAt = DateTimeOffset.ParseExact(fields["signed-at"], "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        File.WriteAllBytes(directory.Combine("message.bin"), SignedBytes(anchor, (signedAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10));
        File.WriteAllBytes(directory.Combine("signature.der"), Convert.FromBase64String(fields["signature"]));
        var (softHsm, pin) = TokenOf(directory);
        var read = await ProcessRunner.RunAsync(pkcs11Tool,
            ["--module", Prerequisites.SoftHsmModule, "--token-label", "MiniCa", "--login", "--pin", pin, "--read-object", "--type", "pubkey", "--label", "audit", "--output-file", directory.Combine("audit-key.der")], softHsm);
        Assert.True(read.ExitCode == 0, read.StandardError);
        Assert.Equal(fields["key-sha256"], Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(directory.Combine("audit-key.der")))));
        var verified = await ProcessRunner.RunAsync(openssl,
            ["dgst", "-sha256", "-verify", directory.Combine("audit-key.der"), "-keyform", "DER", "-signature", directory.Combine("signature.der"), directory.Combine("message.bin")]);
        Assert.True(verified.ExitCode == 0, verified.StandardOutput + verified.StandardError);
        Assert.Contains("Verified OK", verified.StandardOutput, StringComparison.Ordinal);
        var objects = await ProcessRunner.RunAsync(pkcs11Tool,
            ["--module", Prerequisites.SoftHsmModule, "--token-label", "MiniCa", "--login", "--pin", pin, "--list-objects", "--type", "privkey"], softHsm);
        var block = objects.StandardOutput.Split("Private Key Object").Single(b => b.Contains("label:      audit\n", StringComparison.Ordinal));
        Assert.Contains("Access:     sensitive, always sensitive, never extractable, local", block, StringComparison.Ordinal);

        var holds = await Minica.RunAsync(directory.Path, ["audit", "verify"]);
        Assert.True(holds.ExitCode == 0, holds.Combined);
        Assert.Contains($"Signed anchors: 1, each signed with the HSM's key 'audit' (SHA-256 {fields["key-sha256"]}) and held by the log; the newest covers it up to event {anchored} (signed ", holds.StandardOutput, StringComparison.Ordinal);

        // An auditor away from the HSM: the public key `minica audit key` wrote, which is the token's, checks the same.
        var exported = await Minica.RunAsync(directory.Path, ["audit", "key", "--out", directory.Combine("audit-key.pem")]);
        Assert.True(exported.ExitCode == 0, exported.Combined);
        var pem = await ProcessRunner.RunAsync(openssl, ["pkey", "-pubin", "-in", directory.Combine("audit-key.pem"), "-outform", "DER", "-out", directory.Combine("audit-key-from-pem.der")]);
        Assert.True(pem.ExitCode == 0, pem.StandardError);
        Assert.Equal(File.ReadAllBytes(directory.Combine("audit-key.der")), File.ReadAllBytes(directory.Combine("audit-key-from-pem.der")));
        var withKey = await Minica.RunAsync(directory.Path, ["audit", "verify", "--audit-key", directory.Combine("audit-key.pem")]);
        Assert.True(withKey.ExitCode == 0, withKey.Combined);
        Assert.Contains($"Signed anchors: 1, each signed with the key in {directory.Combine("audit-key.pem")}, named 'audit' (SHA-256 {fields["key-sha256"]})", withKey.StandardOutput, StringComparison.Ordinal);
        var other = await ProcessRunner.RunAsync(openssl, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", directory.Combine("other.key")]);
        Assert.True(other.ExitCode == 0, other.StandardError);
        Assert.Equal(0, (await ProcessRunner.RunAsync(openssl, ["pkey", "-in", directory.Combine("other.key"), "-pubout", "-out", directory.Combine("other.pem")])).ExitCode);
        var wrongKey = await Minica.RunAsync(directory.Path, ["audit", "verify", "--audit-key", directory.Combine("other.pem")]);
        Assert.Equal(1, wrongKey.ExitCode);
        Assert.Contains($"it was signed with a key of SHA-256 {fields["key-sha256"]}, not the given audit key (", wrongKey.StandardError, StringComparison.Ordinal);
        var privateKey = await Minica.RunAsync(directory.Path, ["audit", "verify", "--audit-key", directory.Combine("other.key")]);
        Assert.NotEqual(0, privateKey.ExitCode);
        Assert.Contains("holds a private key; give its public key instead", privateKey.StandardError, StringComparison.Ordinal);

        // An event under the signed anchor changed, as whoever can write to the database could: found with no anchor
        // kept anywhere else; changed back: it holds again.
        var original = await ScalarAsync(database, "SELECT Details FROM AuditEvents WHERE Id = 2");
        await ExecuteAsync(database, "UPDATE AuditEvents SET Details = Details || '.' WHERE Id = 2");
        var changed = await Minica.RunAsync(directory.Path, ["audit", "verify"]);
        Assert.Equal(1, changed.ExitCode);
        Assert.Contains($"minica: error: The audit log does not match the signed anchor {anchor} in event {holder}: up to event {anchored} the log now hashes to ", changed.StandardError, StringComparison.Ordinal);
        await ExecuteAsync(database, "UPDATE AuditEvents SET Details = $details WHERE Id = 2", ("$details", original));
        Assert.Equal(0, (await Minica.RunAsync(directory.Path, ["audit", "verify"])).ExitCode);

        // Whoever changes an event and then writes the new chain value into the signed anchor cannot sign it.
        await ExecuteAsync(database, "UPDATE AuditEvents SET Details = Details || '.' WHERE Id = 2");
        var anchoredNow = await ChainUpToAsync(database, anchored);
        Assert.NotEqual(anchor, anchoredNow);
        await ExecuteAsync(database, $"UPDATE AuditEvents SET Details = $details WHERE Id = {holder}", ("$details", details.Replace(anchor, anchoredNow, StringComparison.Ordinal)));
        var forged = await Minica.RunAsync(directory.Path, ["audit", "verify"]);
        Assert.Equal(1, forged.ExitCode);
        Assert.Contains($"The audit log does not match the signed anchor in event {holder}: its signature does not verify under the HSM's key 'audit'", forged.StandardError, StringComparison.Ordinal);

        // A signed anchor that names another key, or is not one at all, fails too.
        await ExecuteAsync(database, $"UPDATE AuditEvents SET Details = $details WHERE Id = {holder}", ("$details", details.Replace("key=audit ", "key=issuing ", StringComparison.Ordinal)));
        Assert.Contains("it names key 'issuing', not an audit key ('audit', 'audit-2', …)", (await Minica.RunAsync(directory.Path, ["audit", "verify"])).StandardError, StringComparison.Ordinal);
        await ExecuteAsync(database, $"UPDATE AuditEvents SET Details = 'anchor={anchoredNow}' WHERE Id = {holder}");
        var stripped = await Minica.RunAsync(directory.Path, ["audit", "verify"]);
        Assert.Equal(1, stripped.ExitCode);
        Assert.Contains($"The audit log does not match the signed anchor in event {holder}: its details are not a signed anchor (no signed-at=", stripped.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditSign_NewerStoredAnchorsThatAreNone_NeitherStopTheSigningNorAreTakenForTheNewest()
    {
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-cli-audit-newest");
        var (database, signed) = await NewSignedCaAsync(directory, "first.example.com");
        var anchor = SignedLine().Match(signed).Groups[1].Value;
        var holder = long.Parse((await ChainOfTheRowsAsync(database)).Split(':')[0], CultureInfo.InvariantCulture);
        var details = await ScalarAsync(database, $"SELECT Details FROM AuditEvents WHERE Id = {holder}");

        // Twenty stored after it that are no anchors (more than one read of the newest): ten claim an event after
        // their own (a forgery that would stop the signing for good if believed), ten are not signed anchors at all.
        for (var i = 0; i < 20; i++)
        {
            var bogus = i % 2 == 0 ? details.Replace($"anchor={anchor[..anchor.IndexOf(':', StringComparison.Ordinal)]}:", "anchor=999999:", StringComparison.Ordinal) : "anchor=garbage";
            await ExecuteAsync(database, $"INSERT INTO AuditEvents (At, Actor, Action, Subject, Details) SELECT At, Actor, Action, Subject, $details FROM AuditEvents WHERE Id = {holder}", ("$details", bogus));
        }

        // The real one is still the newest: nothing but (would-be) signed anchors since, so nothing to sign.
        var idle = await Minica.RunAsync(directory.Path, ["audit", "sign", "--settled-for", "0"]);
        Assert.True(idle.ExitCode == 0, idle.Combined);
        Assert.Contains("Nothing new to sign", idle.StandardOutput, StringComparison.Ordinal);

        // A new event: signed, past the forgery's claim.
        await Minica.IssueForNewKeyAsync(directory.Path, "second.example.com");
        var again = await Minica.RunAsync(directory.Path, ["audit", "sign", "--settled-for", "0"]);
        Assert.True(again.ExitCode == 0, again.Combined);
        Assert.Matches(SignedLine(), again.StandardOutput);
    }

    [Fact]
    public async Task AuditRotateKey_NewKeyInTheHsmSignsFromThen_OldAnchorsStillHold_AnOldKeyAnchorOverTheRotationFails()
    {
        Prerequisites.RequireSoftHsm();
        var pkcs11Tool = Prerequisites.RequireProgram("pkcs11-tool", "opensc");
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        using var directory = new TempDirectory("minica-cli-audit-rotate");
        var database = await NewCaAsync(directory, "rotated.example.com");

        // Nothing to rotate before the first key.
        var early = await Minica.RunAsync(directory.Path, ["audit", "rotate-key"]);
        Assert.NotEqual(0, early.ExitCode);
        Assert.Contains("The HSM holds no audit key 'audit' yet: there is nothing to rotate", early.StandardError, StringComparison.Ordinal);

        var sign = await Minica.RunAsync(directory.Path, ["audit", "sign", "--settled-for", "0"]);
        Assert.True(sign.ExitCode == 0, sign.Combined);
        var firstAnchor = SignedLine().Match(sign.StandardOutput).Groups[1].Value;
        Assert.NotEmpty(firstAnchor);
        var firstKey = (await Minica.RunAsync(directory.Path, ["audit", "key", "--out", directory.Combine("first.pem")])).ExitCode;
        Assert.Equal(0, firstKey);

        // Rotated: audit-2 made in the HSM, the rotation recorded, and the head (with the rotation) signed at once with the new key.
        var rotate = await Minica.RunAsync(directory.Path, ["audit", "rotate-key"]);
        Assert.True(rotate.ExitCode == 0, rotate.Combined);
        var rotated = Regex.Match(rotate.StandardOutput, "^Audit key rotated: 'audit-2' \\(SHA-256 ([0-9a-f]{64})\\) generated in the HSM replaces 'audit' \\(SHA-256 ([0-9a-f]{64})\\)", RegexOptions.Multiline);
        Assert.True(rotated.Success, rotate.StandardOutput);
        var (newSha, oldSha) = (rotated.Groups[1].Value, rotated.Groups[2].Value);
        var rotationEvent = long.Parse(await ScalarAsync(database, "SELECT CAST(Id AS TEXT) FROM AuditEvents WHERE Action = 'audit.key.rotated'"), CultureInfo.InvariantCulture);
        Assert.Equal($"from=audit from-sha256={oldSha} to=audit-2 to-sha256={newSha} by=cli:{Environment.UserName}", await ScalarAsync(database, $"SELECT Details FROM AuditEvents WHERE Id = {rotationEvent}"));
        var covering = Regex.Match(rotate.StandardOutput, "^Signed anchor (\\d+):[0-9a-f]{64} with 'audit-2'", RegexOptions.Multiline);
        Assert.True(covering.Success, rotate.StandardOutput);
        Assert.Equal(rotationEvent, long.Parse(covering.Groups[1].Value, CultureInfo.InvariantCulture));

        // Both keys are the token's own, sensitive and never extractable.
        var (softHsm, pin) = TokenOf(directory);
        var objects = await ProcessRunner.RunAsync(pkcs11Tool,
            ["--module", Prerequisites.SoftHsmModule, "--token-label", "MiniCa", "--login", "--pin", pin, "--list-objects", "--type", "privkey"], softHsm);
        foreach (var label in new[] { "audit", "audit-2" })
        {
            var block = objects.StandardOutput.Split("Private Key Object").Single(b => b.Contains($"label:      {label}\n", StringComparison.Ordinal));
            Assert.Contains("Access:     sensitive, always sensitive, never extractable, local", block, StringComparison.Ordinal);
        }

        var oldKeyId = (await KeyIdsAsync(directory))["audit"];
        Assert.NotEmpty(oldKeyId);

        // Both anchors hold, each under its own key, and the rotation is reported.
        var holds = await Minica.RunAsync(directory.Path, ["audit", "verify"]);
        Assert.True(holds.ExitCode == 0, holds.Combined);
        Assert.Contains($"Signed anchors: 2, each signed with the HSM's audit keys (2 of them, the newest 'audit-2', SHA-256 {newSha}) and held by the log; the newest covers it up to event {rotationEvent} ", holds.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"Audit key rotated in event {rotationEvent}: 'audit' (SHA-256 {oldSha}) replaced by 'audit-2' (SHA-256 {newSha}), by cli:{Environment.UserName}.", holds.StandardOutput, StringComparison.Ordinal);

        // `audit key` writes both, oldest first; OpenSSL reads each, and they are the fingerprints the rotation recorded.
        var keys = await Minica.RunAsync(directory.Path, ["audit", "key", "--out", directory.Combine("keys.pem")]);
        Assert.True(keys.ExitCode == 0, keys.Combined);
        var blocks = File.ReadAllText(directory.Combine("keys.pem")).Split("-----END PUBLIC KEY-----", StringSplitOptions.RemoveEmptyEntries).Where(b => b.Contains("BEGIN", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, blocks.Count);
        for (var i = 0; i < 2; i++)
        {
            File.WriteAllText(directory.Combine($"key{i}.pem"), blocks[i].Trim() + "\n-----END PUBLIC KEY-----\n");
            var der = await ProcessRunner.RunAsync(openssl, ["pkey", "-pubin", "-in", directory.Combine($"key{i}.pem"), "-outform", "DER", "-out", directory.Combine($"key{i}.der")]);
            Assert.True(der.ExitCode == 0, der.StandardError);
            Assert.Equal(i == 0 ? oldSha : newSha, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(directory.Combine($"key{i}.der")))));
        }

        // An auditor with both public keys checks the same; with only the old one, the new key's anchor is not theirs.
        var withKeys = await Minica.RunAsync(directory.Path, ["audit", "verify", "--audit-key", directory.Combine("keys.pem")]);
        Assert.True(withKeys.ExitCode == 0, withKeys.Combined);
        Assert.Contains($"Signed anchors: 2, each signed with the keys in {directory.Combine("keys.pem")} (2 of them,", withKeys.StandardOutput, StringComparison.Ordinal);
        var oldOnly = await Minica.RunAsync(directory.Path, ["audit", "verify", "--audit-key", directory.Combine("first.pem")]);
        Assert.Equal(1, oldOnly.ExitCode);
        Assert.Contains($"it was signed with a key of SHA-256 {newSha}, not the given audit key ({oldSha})", oldOnly.StandardError, StringComparison.Ordinal);

        // Whoever still holds the old key (the PIN) signs an anchor over the log: over the events before the rotation it
        // adds nothing and holds; over the rotation's event it is refused, though its signature is good.
        var tail = long.Parse((await ChainOfTheRowsAsync(database)).Split(':')[0], CultureInfo.InvariantCulture);
        await ForgeAnchorAsync(directory, database, (oldKeyId, "audit", oldSha), rotationEvent - 1, tail + 1);
        var earlier = await Minica.RunAsync(directory.Path, ["audit", "verify"]);
        Assert.True(earlier.ExitCode == 0, earlier.Combined);
        Assert.Contains("Signed anchors: 3, each signed with the HSM's audit keys (2 of them, ", earlier.StandardOutput, StringComparison.Ordinal);

        var over = await ForgeAnchorAsync(directory, database, (oldKeyId, "audit", oldSha), rotationEvent, tail + 2);
        var refused = await Minica.RunAsync(directory.Path, ["audit", "verify"]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains(
            $"The audit log does not match the signed anchor in event {tail + 2}: it was signed with the audit key 'audit' over the log up to event {rotationEvent}, but event {rotationEvent} had replaced that key by 'audit-2'",
            refused.StandardError, StringComparison.Ordinal);
        Assert.Equal(over, await ChainUpToAsync(database, rotationEvent));

        // A rotation record changed to name a key the HSM does not hold is found too, and the new key's anchor, which no
        // recorded rotation now brings in, no longer counts.
        await ExecuteAsync(database, $"DELETE FROM AuditEvents WHERE Id = {tail + 2}");
        await ExecuteAsync(database, $"UPDATE AuditEvents SET Details = replace(Details, 'to-sha256={newSha}', 'to-sha256={new string('c', 64)}') WHERE Id = {rotationEvent}");
        var badRotation = await Minica.RunAsync(directory.Path, ["audit", "verify"]);
        Assert.Equal(1, badRotation.ExitCode);
        Assert.Contains($"it was signed with the key 'audit-2' (SHA-256 {newSha}), which no recorded rotation brought in", badRotation.StandardError, StringComparison.Ordinal);
        Assert.Contains($"The audit log's key rotation in event {rotationEvent} does not hold: the key it names, 'audit-2' (SHA-256 {new string('c', 64)}), is not one of the HSM's audit keys", badRotation.Combined, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditRotateKey_ARotationTheLogCannotRecord_LeavesAKeyThatNeverSigns_TheNextRotationSkipsIt()
    {
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-cli-audit-unrecorded");
        var (database, _) = await NewSignedCaAsync(directory, "unrecorded.example.com");

        // The log refuses the rotation's record (as a full disk or a lost database would): the new key is made in the HSM, nothing recorded.
        await ExecuteAsync(database, "CREATE TRIGGER refuse_rotation BEFORE INSERT ON AuditEvents WHEN NEW.Action = 'audit.key.rotated' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;", expected: 0);
        var failed = await Minica.RunAsync(directory.Path, ["audit", "rotate-key"]);
        Assert.NotEqual(0, failed.ExitCode);
        Assert.Contains("The audit key 'audit-2' was made in the HSM, but its rotation could not be recorded in the audit log (", failed.StandardError, StringComparison.Ordinal);
        Assert.Contains("refused by the test", failed.StandardError, StringComparison.Ordinal);
        Assert.Contains("anchors are still signed with 'audit', and the next rotation skips 'audit-2'.", failed.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", failed.Combined, StringComparison.Ordinal);
        Assert.Equal("0", await ScalarAsync(database, "SELECT CAST(COUNT(*) AS TEXT) FROM AuditEvents WHERE Action = 'audit.key.rotated'"));

        // 'audit' still signs (a new event to sign), though 'audit-2' is the newest key in the HSM; `audit key` lists both and says which signs.
        await Minica.IssueForNewKeyAsync(directory.Path, "after.unrecorded.example.com");
        var still = await Minica.RunAsync(directory.Path, ["audit", "sign", "--settled-for", "0"]);
        Assert.True(still.ExitCode == 0, still.Combined);
        Assert.Matches(SignedLine(), still.StandardOutput);
        var listed = await Minica.RunAsync(directory.Path, ["audit", "key", "--out", directory.Combine("keys.pem")]);
        Assert.True(listed.ExitCode == 0, listed.Combined);
        var orphan = Regex.Match(listed.StandardOutput, "^Audit keys, oldest first \\('audit' signs now\\): 'audit' SHA-256 ([0-9a-f]{64}), 'audit-2' SHA-256 ([0-9a-f]{64}) \\(no recorded rotation brought it in: it never signs\\)\\.", RegexOptions.Multiline);
        Assert.True(orphan.Success, listed.StandardOutput);
        var (oldSha, orphanSha) = (orphan.Groups[1].Value, orphan.Groups[2].Value);
        Assert.True((await Minica.RunAsync(directory.Path, ["audit", "verify"])).ExitCode == 0);

        // Recorded again, the next rotation makes 'audit-3', which replaces 'audit' and signs from then on.
        await ExecuteAsync(database, "DROP TRIGGER refuse_rotation", expected: 0);
        var rotate = await Minica.RunAsync(directory.Path, ["audit", "rotate-key"]);
        Assert.True(rotate.ExitCode == 0, rotate.Combined);
        var rotated = Regex.Match(rotate.StandardOutput, $"^Audit key rotated: 'audit-3' \\(SHA-256 ([0-9a-f]{{64}})\\) generated in the HSM replaces 'audit' \\(SHA-256 {oldSha}\\)", RegexOptions.Multiline);
        Assert.True(rotated.Success, rotate.StandardOutput);
        var newSha = rotated.Groups[1].Value;
        Assert.Contains("with 'audit-3' and stored it in the audit log: it covers the rotation.", rotate.StandardOutput, StringComparison.Ordinal);
        var rotationEvent = long.Parse(await ScalarAsync(database, "SELECT CAST(Id AS TEXT) FROM AuditEvents WHERE Action = 'audit.key.rotated'"), CultureInfo.InvariantCulture);
        var holds = await Minica.RunAsync(directory.Path, ["audit", "verify"]);
        Assert.True(holds.ExitCode == 0, holds.Combined);
        Assert.Contains($"Audit key rotated in event {rotationEvent}: 'audit' (SHA-256 {oldSha}) replaced by 'audit-3' (SHA-256 {newSha}),", holds.StandardOutput, StringComparison.Ordinal);
        var relisted = await Minica.RunAsync(directory.Path, ["audit", "key", "--out", directory.Combine("keys.pem")]);
        Assert.Contains("Audit keys, oldest first ('audit-3' signs now): ", relisted.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"'audit-2' SHA-256 {orphanSha} (no recorded rotation brought it in: it never signs), 'audit-3' SHA-256 {newSha}.", relisted.StandardOutput, StringComparison.Ordinal);

        // Whoever holds the PIN signs an anchor with the unrecorded 'audit-2': its signature is good, but no rotation brought that key in.
        var tail = long.Parse((await ChainOfTheRowsAsync(database)).Split(':')[0], CultureInfo.InvariantCulture);
        await ForgeAnchorAsync(directory, database, ((await KeyIdsAsync(directory))["audit-2"], "audit-2", orphanSha), tail, tail + 1);
        var refused = await Minica.RunAsync(directory.Path, ["audit", "verify"]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"The audit log does not match the signed anchor in event {tail + 1}: it was signed with the key 'audit-2' (SHA-256 {orphanSha}), which no recorded rotation brought in", refused.StandardError, StringComparison.Ordinal);

        // A rotation record forged to bring it in after the fact does not follow the one before: the key then was 'audit-3'.
        await ExecuteAsync(database, $"DELETE FROM AuditEvents WHERE Id = {tail + 1}");
        await ExecuteAsync(database,
            $"INSERT INTO AuditEvents (Id, At, Actor, Action, Subject, Details) SELECT {tail + 1}, At, Actor, Action, 'audit-key:audit-2', $details FROM AuditEvents WHERE Id = {rotationEvent}",
            ("$details", $"from=audit from-sha256={oldSha} to=audit-2 to-sha256={orphanSha} by=cli:forger"));
        var forged = await Minica.RunAsync(directory.Path, ["audit", "verify"]);
        Assert.Equal(1, forged.ExitCode);
        Assert.Contains($"The audit log's key rotation in event {tail + 1} does not hold: it replaces 'audit' (SHA-256 {oldSha}), but the audit key then was 'audit-3' (SHA-256 {newSha}), brought in by event {rotationEvent}", forged.Combined, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditRotateKey_TwoRotationsOfOneKey_TheDatabaseKeepsOne_TheLogStillHolds()
    {
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-cli-audit-race");
        var (database, _) = await NewSignedCaAsync(directory, "race.example.com");
        var key = await Minica.RunAsync(directory.Path, ["audit", "key", "--out", directory.Combine("first.pem")]);
        var firstSha = Regex.Match(key.StandardOutput, "^Audit key 'audit': SHA-256 of its SubjectPublicKeyInfo ([0-9a-f]{64})", RegexOptions.Multiline).Groups[1].Value;
        Assert.True(firstSha.Length == 64, key.Combined);

        // Another process recorded its rotation of 'audit' a moment before this one's record (its row put there by the
        // test): this one is refused, its event is not written, and the key it made never signs.
        await ExecuteAsync(database, "INSERT INTO AuditKeyRotations (ReplacedKeySha256, EventId) VALUES ($sha, 1)", ("$sha", firstSha));
        var refused = await Minica.RunAsync(directory.Path, ["audit", "rotate-key"]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Another rotation replaced the audit key 'audit' at the same moment, so this one was not recorded: the key 'audit-2' it made in the HSM never signs, and the next rotation skips it.", refused.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", refused.Combined, StringComparison.Ordinal);
        Assert.Equal("0", await ScalarAsync(database, "SELECT CAST(COUNT(*) AS TEXT) FROM AuditEvents WHERE Action = 'audit.key.rotated'"));
        await ExecuteAsync(database, "DELETE FROM AuditKeyRotations");

        // Three rotations started at once: each is recorded after the one before or refused, and the log holds.
        var runs = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Minica.RunAsync(directory.Path, ["audit", "rotate-key"])));
        var recorded = runs.Count(r => r.ExitCode == 0);
        Assert.True(recorded > 0, string.Join("\n---\n", runs.Select(r => r.Combined)));
        foreach (var run in runs.Where(r => r.ExitCode != 0))
        {
            Assert.True(run.StandardError.Contains("at the same moment", StringComparison.Ordinal), run.Combined);
        }

        Assert.Equal(recorded.ToString(CultureInfo.InvariantCulture), await ScalarAsync(database, "SELECT CAST(COUNT(*) AS TEXT) FROM AuditEvents WHERE Action = 'audit.key.rotated'"));
        var holds = await Minica.RunAsync(directory.Path, ["audit", "verify"]);
        Assert.True(holds.ExitCode == 0, holds.Combined);

        // The last recorded rotation's key signs the next anchor.
        var newest = (await ScalarAsync(database, "SELECT Subject FROM AuditEvents WHERE Action = 'audit.key.rotated' ORDER BY Id DESC LIMIT 1"))["audit-key:".Length..];
        await Minica.IssueForNewKeyAsync(directory.Path, "after.race.example.com");
        var next = await Minica.RunAsync(directory.Path, ["audit", "sign", "--settled-for", "0"]);
        Assert.True(next.ExitCode == 0, next.Combined);
        Assert.Contains($"with the HSM's key '{newest}'", next.StandardOutput, StringComparison.Ordinal);
        Assert.True((await Minica.RunAsync(directory.Path, ["audit", "verify"])).ExitCode == 0);
    }

    [Fact]
    public async Task WebHost_LogsAndSignsAnAnchorAtStart_TheCliChecksTheLogAgainstIt()
    {
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-web-audit");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");
        string anchor;
        await using (var host = WebHostProcess.Start(directory.Path, FreePort.Next(), new Dictionary<string, string?> { ["MINICA_Audit__AnchorSettledSeconds"] = "0" }))
        {
            await host.WaitUntilHealthyAsync();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!LoggedAnchor().IsMatch(host.Output) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }

            anchor = LoggedAnchor().Match(host.Output).Groups[1].Value;
            Assert.True(anchor.Length > 0, host.Output);

            // The same pass signs it and stores it in the log.
            while (!host.Output.Contains($"Audit chain anchor {anchor} signed with the HSM's key 'audit'", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }

            Assert.Contains($"Audit chain anchor {anchor} signed with the HSM's key 'audit'", host.Output, StringComparison.Ordinal);
        }

        var holds = await Minica.RunAsync(directory.Path, ["audit", "verify", "--anchor", anchor]);
        Assert.True(holds.ExitCode == 0, holds.Combined);
        Assert.Contains($"Anchor {anchor} holds", holds.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Signed anchors: 1, each signed with the HSM's key 'audit' (SHA-256 ", holds.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(") and held by the log; the newest covers it up to event " + anchor[..anchor.IndexOf(':', StringComparison.Ordinal)] + " ", holds.StandardOutput, StringComparison.Ordinal);
        await ExecuteAsync($"Data Source={directory.Combine("data", "minica.db")};Pooling=False", "UPDATE AuditEvents SET Actor = Actor || ' ' WHERE Id = 1");
        var changed = await Minica.RunAsync(directory.Path, ["audit", "verify", "--anchor", anchor]);
        Assert.Equal(1, changed.ExitCode);
        Assert.Contains("(1 more anchor(s) do not match)", changed.StandardError, StringComparison.Ordinal);

        // Started again on the changed log, the host says at once that the log no longer matches its signed anchor.
        await using (var host = WebHostProcess.Start(directory.Path, FreePort.Next(), new Dictionary<string, string?> { ["MINICA_Audit__AnchorSettledSeconds"] = "0" }))
        {
            await host.WaitUntilHealthyAsync();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!host.Output.Contains("Audit log integrity: the log does not match the signed anchor in event ", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }

            Assert.Contains("Audit log integrity: the log does not match the signed anchor in event ", host.Output, StringComparison.Ordinal);
            Assert.Contains("the log now hashes to", host.Output, StringComparison.Ordinal);

            // And so does its gauge, for an alert.
            var metrics = string.Empty;
            for (var i = 0; i < 50 && !metrics.Contains("minica_audit_signed_anchors_failing", StringComparison.Ordinal); i++)
            {
                await Task.Delay(200);
                metrics = await host.Client.GetStringAsync("/metrics");
            }

            Assert.Matches(@"(?m)^minica_audit_signed_anchors_failing(\{[^}]*\})? 1$", metrics);
            Assert.Matches(@"(?m)^minica_audit_last_check_timestamp_seconds(\{[^}]*\})? \d{10}$", metrics);
        }
    }

    /// <summary>A new CA in <paramref name="directory"/> (SoftHSM2, SQLite) with one certificate issued for <paramref name="name"/>; returns its database's connection string.</summary>
    private static async Task<string> NewCaAsync(TempDirectory directory, string name)
    {
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");
        var init = await Minica.RunAsync(directory.Path, ["init"]);
        Assert.True(init.ExitCode == 0, init.Combined);
        await Minica.IssueForNewKeyAsync(directory.Path, name);
        return $"Data Source={directory.Combine("data", "minica.db")};Pooling=False";
    }

    /// <summary>
    /// <see cref="NewCaAsync"/>, then the log signed once (<c>minica audit sign</c>, which makes the first audit key);
    /// returns the database's connection string and what the signing printed.
    /// </summary>
    private static async Task<(string Database, string Signed)> NewSignedCaAsync(TempDirectory directory, string name)
    {
        var database = await NewCaAsync(directory, name);
        var sign = await Minica.RunAsync(directory.Path, ["audit", "sign", "--settled-for", "0"]);
        Assert.True(sign.ExitCode == 0, sign.Combined);
        return (database, sign.StandardOutput);
    }

    /// <summary>What pkcs11-tool needs to open the CA's embedded token: its SoftHSM2 configuration and the user PIN.</summary>
    private static (Dictionary<string, string?> Environment, string Pin) TokenOf(TempDirectory directory) => (
        new Dictionary<string, string?> { ["SOFTHSM2_CONF"] = directory.Combine("data", "hsm", "softhsm2.conf") },
        File.ReadAllText(directory.Combine("data", "secrets", "hsm-user-pin")).Trim());

    /// <summary>The private keys' pkcs11-tool ids in the CA's token, by label (pkcs11-tool signs with the key of an id; it does not select by label).</summary>
    private static async Task<Dictionary<string, string>> KeyIdsAsync(TempDirectory directory)
    {
        var pkcs11Tool = Prerequisites.RequireProgram("pkcs11-tool", "opensc");
        var (softHsm, pin) = TokenOf(directory);
        var objects = await ProcessRunner.RunAsync(pkcs11Tool,
            ["--module", Prerequisites.SoftHsmModule, "--token-label", "MiniCa", "--login", "--pin", pin, "--list-objects", "--type", "privkey"], softHsm);
        Assert.True(objects.ExitCode == 0, objects.StandardError);
        return objects.StandardOutput.Split("Private Key Object").Skip(1)
            .ToDictionary(b => Regex.Match(b, "label:\\s+(\\S+)\n").Groups[1].Value, b => Regex.Match(b, "ID:\\s+([0-9a-f]+)").Groups[1].Value, StringComparer.Ordinal);
    }

    /// <summary>
    /// Stores as event <paramref name="storedAs"/> an anchor over the log up to event <paramref name="upTo"/>, signed by
    /// pkcs11-tool with the HSM's key of <paramref name="key"/>'s id, as whoever holds the PIN could; returns the anchor.
    /// </summary>
    private static async Task<string> ForgeAnchorAsync(TempDirectory directory, string database, (string Id, string Name, string Sha256) key, long upTo, long storedAs)
    {
        var pkcs11Tool = Prerequisites.RequireProgram("pkcs11-tool", "opensc");
        var (softHsm, pin) = TokenOf(directory);
        var anchor = await ChainUpToAsync(database, upTo);
        var signedAt = DateTimeOffset.UtcNow;
        var micros = (signedAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
        signedAt = DateTimeOffset.UnixEpoch.AddTicks(micros * 10);
        File.WriteAllBytes(directory.Combine("forged.sha256"), SHA256.HashData(SignedBytes(anchor, micros)));
        var signed = await ProcessRunner.RunAsync(pkcs11Tool,
            ["--module", Prerequisites.SoftHsmModule, "--token-label", "MiniCa", "--login", "--pin", pin, "--sign", "--mechanism", "ECDSA", "--signature-format", "openssl",
             "--id", key.Id, "--input-file", directory.Combine("forged.sha256"), "--output-file", directory.Combine("forged.sig")], softHsm);
        Assert.True(signed.ExitCode == 0, signed.StandardError);
        var details = string.Create(CultureInfo.InvariantCulture,
            $"anchor={anchor} signed-at={signedAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'} key={key.Name} key-sha256={key.Sha256} algorithm=EcdsaSha256 signature={Convert.ToBase64String(File.ReadAllBytes(directory.Combine("forged.sig")))}");
        await ExecuteAsync(database,
            $"INSERT INTO AuditEvents (Id, At, Actor, Action, Subject, Details) SELECT {storedAs}, At, Actor, Action, 'audit:{upTo}', $details FROM AuditEvents WHERE Action = 'audit.anchor.signed' ORDER BY Id DESC LIMIT 1",
            ("$details", details));
        return anchor;
    }

    /// <summary>What a signed anchor signs, built here from the README's words apart from the CA's code.</summary>
    private static byte[] SignedBytes(string anchor, long microseconds)
    {
        var colon = anchor.IndexOf(':', StringComparison.Ordinal);
        using var message = new MemoryStream();
        message.Write(Encoding.ASCII.GetBytes("MiniCa audit anchor v1"));
        var number = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(number, long.Parse(anchor[..colon], CultureInfo.InvariantCulture));
        message.Write(number);
        message.Write(Convert.FromHexString(anchor[(colon + 1)..]));
        BinaryPrimitives.WriteInt64BigEndian(number, microseconds);
        message.Write(number);
        return message.ToArray();
    }

    /// <summary>
    /// The chain as the README describes it, from the raw rows: EF Core stores a time on SQLite as
    /// ((ticks / 1000) &lt;&lt; 11) | offset in minutes (its DateTimeOffsetToBinaryConverter).
    /// </summary>
    private static Task<string> ChainUpToAsync(string database, long lastId) => ChainOfTheRowsAsync(database, lastId);

    private static async Task<string> ChainOfTheRowsAsync(string database, long lastId = long.MaxValue)
    {
        await using var connection = new SqliteConnection(database);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT Id, At, Actor, Action, Subject, Details FROM AuditEvents WHERE Id <= $last ORDER BY Id";
        command.Parameters.AddWithValue("$last", lastId);
        await using var reader = await command.ExecuteReaderAsync();
        var value = SHA256.HashData(Encoding.ASCII.GetBytes("MiniCa audit chain v1"));
        long last = 0;
        while (await reader.ReadAsync())
        {
            var stored = reader.GetInt64(1);
            var offsetMinutes = (int)(stored & 0x7FF);
            offsetMinutes = offsetMinutes >= 1024 ? offsetMinutes - 2048 : offsetMinutes;
            var utcTicks = (stored >> 11) * 1000 - offsetMinutes * TimeSpan.TicksPerMinute;
            using var bytes = new MemoryStream();
            bytes.Write(value);
            var number = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(number, last = reader.GetInt64(0));
            bytes.Write(number);
            BinaryPrimitives.WriteInt64BigEndian(number, (utcTicks - 621_355_968_000_000_000) / 10);
            bytes.Write(number);
            for (var field = 2; field < 6; field++)
            {
                var text = Encoding.UTF8.GetBytes(reader.GetString(field));
                BinaryPrimitives.WriteUInt32BigEndian(number, (uint)text.Length);
                bytes.Write(number, 0, 4);
                bytes.Write(text);
            }

            value = SHA256.HashData(bytes.ToArray());
        }

        return $"{last}:{Convert.ToHexStringLower(value)}";
    }

    private static async Task<string> ScalarAsync(string database, string sql)
    {
        await using var connection = new SqliteConnection(database);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static Task ExecuteAsync(string database, string sql, params (string Name, object Value)[] parameters) => ExecuteAsync(database, sql, 1, parameters);

    /// <summary>Runs <paramref name="sql"/> and checks it changed <paramref name="expected"/> rows.</summary>
    private static async Task ExecuteAsync(string database, string sql, int expected, params (string Name, object Value)[] parameters)
    {
        await using var connection = new SqliteConnection(database);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        Assert.Equal(expected, await command.ExecuteNonQueryAsync());
    }

    [GeneratedRegex(@"^Anchor: (\d+:[0-9a-f]{64})$", RegexOptions.Multiline)]
    private static partial Regex AnchorLine();

    [GeneratedRegex(@"^Signed anchor (\d+:[0-9a-f]{64}) with the HSM's key 'audit' \(SHA-256 [0-9a-f]{64}\) and stored it in the audit log", RegexOptions.Multiline)]
    private static partial Regex SignedLine();

    [GeneratedRegex(@"Audit chain anchor (\d+:[0-9a-f]{64}) ")]
    private static partial Regex LoggedAnchor();
}
