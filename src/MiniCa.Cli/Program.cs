using MiniCa.Cli;
using MiniCa.Cli.Commands;
using MiniCa.Core.Errors;
using MiniCa.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

CliContext.RawArguments = args;
if (Console.IsOutputRedirected)
{
    // Tables stay on one line per row when piped to a file or a test.
    AnsiConsole.Profile.Width = 240;
}

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("minica");
    // An option the command does not have is an error, not ignored: a misspelt option must not change what a
    // command does to the CA.
    config.UseStrictParsing();
    config.AddCommand<InitCommand>("init")
        .WithDescription("Key ceremony: create the root and issuing keys in the HSM and their certificates (runs once).");
    config.AddCommand<IssueCommand>("issue")
        .WithDescription("Issue a certificate for a CSR under a profile (manual profiles leave the request pending).");
    config.AddCommand<RequestsCommand>("requests").WithDescription("List the most recent certificate requests.");
    config.AddCommand<RevokeCommand>("revoke").WithDescription("Revoke a certificate by serial with an RFC 5280 reason, then publish a fresh CRL.");
    config.AddCommand<CrlCommand>("crl").WithDescription("Generate and publish a CRL now.");
    config.AddBranch("blocked-keys", blocked =>
    {
        blocked.SetDescription("Keys reported compromised: never certified again (BR §6.1.1.3 (4)).");
        blocked.AddCommand<BlockedKeyAddCommand>("add").WithDescription("Block a key (from its certificate, CSR or public key) and revoke every unexpired certificate of it.");
        blocked.AddCommand<BlockedKeyListCommand>("list").WithDescription("List the blocked keys.");
        blocked.AddCommand<BlockedKeyRemoveCommand>("remove").WithDescription("Lift the block of a key blocked by mistake (its revoked certificates stay revoked).");
    });
    config.AddBranch("audit", audit =>
    {
        audit.SetDescription("The audit log's hash chain.");
        audit.AddCommand<AuditVerifyCommand>("verify").WithDescription("Check the audit log against anchors taken earlier (--anchor ID:HASH) and the signed anchors stored in it, and print the anchor to keep now.");
        audit.AddCommand<AuditKeyCommand>("key").WithDescription("Print the public halves of the HSM's audit keys (PEM, oldest first), which sign the anchors stored in the audit log.");
        audit.AddCommand<AuditSignCommand>("sign").WithDescription("Sign the audit chain's anchor with the HSM's audit key and store it in the audit log.");
        audit.AddCommand<AuditRotateKeyCommand>("rotate-key").WithDescription("Replace the audit key with a new one generated in the HSM, record the rotation in the audit log and sign it with the new key.");
    });
    config.AddBranch("backup", backup =>
    {
        backup.SetDescription("Copy the CA while it runs (--out DIR): database (online backup), embedded token store and PINs, CA files, configuration, a manifest; check a copy (verify DIR).");
        backup.SetDefaultCommand<BackupCommand>();
        backup.AddCommand<BackupVerifyCommand>("verify").WithDescription("Check that a backup would bring the CA back: every file against its manifest, then its configuration, database, keys and audit log on a scratch copy.");
        backup.AddCommand<BackupRestoreCommand>("restore").WithDescription("Check a backup as verify does and, when it passes, restore it into a new folder (--to FOLDER) the CA starts from; a PostgreSQL dump goes into an empty database (--restore-into NAME).");
    });
    config.AddBranch("user", user =>
    {
        user.SetDescription("Portal users and their roles.");
        user.AddCommand<UserAddCommand>("add").WithDescription("Create a portal user with one or more roles.");
        user.AddCommand<UserListCommand>("list").WithDescription("List portal users, their roles and lock state.");
    });
    config.AddBranch("hsm", hsm =>
    {
        hsm.SetDescription("Inspect the HSM cluster; add, sync and remove members.");
        hsm.AddCommand<HsmStatusCommand>("status").WithDescription("Each member's state and counters, then module, token, slots, login and sessions.");
        hsm.AddCommand<HsmKeysCommand>("keys").WithDescription("Each key on each member with its security attributes.");
        hsm.AddCommand<HsmAddMemberCommand>("add-member").WithDescription("Copy every CA key to a configured, empty member (needs a quorum of administrators).");
        hsm.AddCommand<HsmSyncCommand>("sync").WithDescription("Report key drift across members; --repair copies missing keys (needs a quorum).");
        hsm.AddCommand<HsmRemoveMemberCommand>("remove-member").WithDescription("Destroy every CA key on a member so it can leave (needs a quorum; refused for the last holder of a key).");
    });
    config.SetExceptionHandler((exception, _) =>
    {
        // One line, no stack trace: the reason a person can act on.
        var message = exception switch
        {
            CaException ca => ca.Message,
            CommandParseException or CommandRuntimeException => exception.Message,
            // EF Core's DbUpdateException says only to see its inner exception: the database's words are the reason.
            _ when DatabaseFailure.Reason(exception) is { } reason => $"The issuance database failed: {reason}.",
            _ => $"{exception.GetType().Name}: {exception.Message}",
        };
        Console.Error.WriteLine("minica: error: " + message.ReplaceLineEndings(" "));
        return exception is CommandParseException or CommandRuntimeException ? 64 : 1;
    });
});

return await app.RunAsync(MiniCaConfiguration.CommandArguments(args));
