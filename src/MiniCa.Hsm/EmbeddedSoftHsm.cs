using System.Security.Cryptography;
using MiniCa.Core.Errors;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace MiniCa.Hsm;

/// <summary>
/// The embedded HSM: a private SoftHSM2 token store under <c>&lt;DataDirectory&gt;/hsm</c>, a token labelled
/// <c>MiniCa</c>, and random SO and user PINs in <c>&lt;DataDirectory&gt;/secrets</c> (mode 0600). Used only when no
/// HSM member is configured; a configured HSM is never initialised by MiniCa.
/// </summary>
public static class EmbeddedSoftHsm
{
    /// <summary>The embedded token's label.</summary>
    public const string TokenLabel = "MiniCa";

    /// <summary>The member name of the embedded token.</summary>
    public const string MemberName = "embedded";

    private const string ConfigVariable = "SOFTHSM2_CONF";

    /// <summary>Paths of the embedded HSM under a data directory.</summary>
    public static EmbeddedHsmPaths PathsFor(string dataDirectory)
    {
        var data = Path.GetFullPath(dataDirectory);
        var hsm = Path.Combine(data, "hsm");
        var secrets = Path.Combine(data, "secrets");
        return new EmbeddedHsmPaths(
            hsm,
            Path.Combine(hsm, "tokens"),
            Path.Combine(hsm, "softhsm2.conf"),
            Path.Combine(secrets, "hsm-user-pin"),
            Path.Combine(secrets, "hsm-so-pin"));
    }

    /// <summary>
    /// Creates the token store, configuration, PINs and token where missing, points SoftHSM2 at them (natively,
    /// before the module loads) and returns how to connect. Safe to call on every start.
    /// </summary>
    /// <exception cref="CaException">SoftHSM2 is missing, the module is already loaded with another store, or the
    /// token's PIN files exist without the token (a lost token store) or the token without its user PIN file.</exception>
    public static HsmMemberSettings Provision(string dataDirectory, string modulePath, int maxSessions = 16)
    {
        var paths = PathsFor(dataDirectory);
        CreatePrivateDirectory(Path.GetFullPath(dataDirectory));
        CreatePrivateDirectory(paths.HsmDirectory);

        // Two processes starting on a new data directory would both make a token (and PIN files): one at a time.
        using var turn = ExclusiveFileLock.Acquire(Path.Combine(paths.HsmDirectory, ".lock"), "making the embedded token", TimeSpan.FromMinutes(2));
        if (HasPinFiles(paths) && (!Directory.Exists(paths.TokenDirectory) || !Directory.EnumerateFileSystemEntries(paths.TokenDirectory).Any()))
        {
            // Refused before the token store is created, so it can be restored where it was.
            throw TokenStoreLost(paths);
        }

        CreatePrivateDirectory(paths.TokenDirectory);
        CreatePrivateDirectory(Path.GetDirectoryName(paths.UserPinFile)!);
        WriteConfig(paths);

        PointSoftHsmAt(paths.ConfigFile, modulePath);
        var library = Pkcs11Modules.Load(modulePath);
        var settings = new HsmMemberSettings
        {
            Name = MemberName,
            ModulePath = modulePath,
            TokenLabel = TokenLabel,
            PinSource = "file:" + paths.UserPinFile,
            SoPinSource = "file:" + paths.SoPinFile,
            MaxSessions = maxSessions,
        };

        if (TokenExists(library))
        {
            if (!File.Exists(paths.UserPinFile))
            {
                throw new CaException(
                    CaErrorKind.Configuration,
                    $"The embedded token '{TokenLabel}' exists in {paths.TokenDirectory} but its PIN file {paths.UserPinFile} is missing; restore it from backup.");
            }

            return settings;
        }

        if (HasPinFiles(paths))
        {
            throw TokenStoreLost(paths);
        }

        var soPin = CreatePin(paths.SoPinFile);
        var userPin = CreatePin(paths.UserPinFile);
        InitializeToken(library, TokenLabel, soPin, userPin);
        return settings;
    }

    /// <summary>
    /// Writes <c>softhsm2.conf</c> when missing, and points its token directory at this data directory's store when
    /// it names another: a data directory restored or copied to another path would otherwise go on using the
    /// original path's token files (another CA's, or none). Other lines an operator changed are kept.
    /// </summary>
    private static void WriteConfig(EmbeddedHsmPaths paths)
    {
        const string TokenDirKey = "directories.tokendir";
        var line = $"{TokenDirKey} = {paths.TokenDirectory}";
        if (!File.Exists(paths.ConfigFile))
        {
            WritePrivateFile(
                paths.ConfigFile,
                $"# MiniCa embedded HSM (SoftHSM2). Generated; the token files below are encrypted with the user PIN.\n" +
                $"{line}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");
            return;
        }

        var lines = File.ReadAllLines(paths.ConfigFile);
        if (lines.Contains(line))
        {
            return;
        }

        bool IsTokenDir(string l) => l.TrimStart().StartsWith(TokenDirKey, StringComparison.Ordinal);
        var updated = lines.Any(IsTokenDir) ? lines.Select(l => IsTokenDir(l) ? line : l) : lines.Append(line);
        var temporary = paths.ConfigFile + ".new";
        File.Delete(temporary);
        WritePrivateFile(temporary, string.Join('\n', updated) + "\n");
        File.Move(temporary, paths.ConfigFile, overwrite: true);
    }

    /// <summary>The PIN files are written only when the token is made.</summary>
    private static bool HasPinFiles(EmbeddedHsmPaths paths) => File.Exists(paths.UserPinFile) || File.Exists(paths.SoPinFile);

    /// <summary>
    /// PINs without their token: the token store was lost, or not restored with them. A new empty token would hide
    /// that, and leave two tokens with the same label once the old store came back.
    /// </summary>
    private static CaException TokenStoreLost(EmbeddedHsmPaths paths)
    {
        var secrets = Path.GetDirectoryName(paths.UserPinFile);
        return new CaException(
            CaErrorKind.Configuration,
            $"The embedded token store {paths.TokenDirectory} holds no token '{TokenLabel}', but its PIN files in {secrets} exist: " +
            $"the token store was removed or not restored. Restore {paths.HsmDirectory} together with {secrets} from the same backup. " +
            "To start a new CA instead, remove the PIN files (hsm-user-pin, hsm-so-pin) and the issuance database.");
    }

    private static void PointSoftHsmAt(string configFile, string modulePath)
    {
        var current = NativeInterop.GetNativeEnvironment(ConfigVariable);
        if (string.Equals(current, configFile, StringComparison.Ordinal))
        {
            return;
        }

        if (Pkcs11Modules.IsLoaded(modulePath))
        {
            // SoftHSM reads its configuration once, in C_Initialize; the module cannot be pointed elsewhere now.
            throw new CaException(
                CaErrorKind.InvalidState,
                $"SoftHSM2 is already loaded in this process with {current ?? "/etc/softhsm2.conf"}; the embedded store {configFile} needs a new process.");
        }

        NativeInterop.SetNativeEnvironment(ConfigVariable, configFile);
    }

    private static bool TokenExists(IPkcs11Library library) =>
        library.GetSlotList(SlotsType.WithTokenPresent)
            .Select(slot => slot.GetTokenInfo())
            .Any(info => info.TokenFlags.TokenInitialized && info.Label.Trim() == TokenLabel);

    /// <summary>Initialises a new token labelled <paramref name="label"/> in the module's free slot and sets its user PIN.</summary>
    internal static void InitializeToken(IPkcs11Library library, string label, string soPin, string userPin)
    {
        // SoftHSM2 accepts duplicate labels; tokens are found by label, so refuse them here.
        if (library.GetSlotList(SlotsType.WithTokenPresent).Any(s => s.GetTokenInfo().TokenFlags.TokenInitialized && s.GetTokenInfo().Label.Trim() == label))
        {
            throw new CaException(CaErrorKind.AlreadyExists, $"A token labelled '{label}' already exists.");
        }

        // SoftHSM2 always offers one uninitialised slot; initialising it renumbers the slots, so the token is
        // looked up again by label afterwards.
        var free = library.GetSlotList(SlotsType.WithTokenPresent)
            .FirstOrDefault(slot => !slot.GetTokenInfo().TokenFlags.TokenInitialized)
            ?? throw new CaException(CaErrorKind.HsmTokenNotFound, "SoftHSM2 offers no free slot to create the embedded token in.");
        free.InitToken(soPin, label);

        var slot = library.GetSlotList(SlotsType.WithTokenPresent)
            .Single(s => s.GetTokenInfo().TokenFlags.TokenInitialized && s.GetTokenInfo().Label.Trim() == label);
        using var session = slot.OpenSession(SessionType.ReadWrite);
        session.Login(CKU.CKU_SO, soPin);
        session.InitPin(userPin);
        session.Logout();
    }

    private static string CreatePin(string path)
    {
        // 144 random bits, printable (SoftHSM2 accepts 4..255 bytes).
        var pin = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', '-').Replace('/', '_');
        WritePrivateFile(path, pin + "\n");
        return pin;
    }

    /// <summary>Creates a directory readable only by its owner (0700).</summary>
    /// <exception cref="CaException">The directory cannot be created (a file in the way, no permission, a read-only file system).</exception>
    public static void CreatePrivateDirectory(string path)
    {
        try
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(path);
                return;
            }

            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CaException(CaErrorKind.Configuration, $"Cannot create the folder {path}: {ex.Message} Check DataDirectory and its permissions.", ex);
        }
    }

    /// <summary>Writes a new file readable only by its owner (0600), refusing to overwrite.</summary>
    public static void WritePrivateFile(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(path, options);
        writer.Write(content);
    }
}

/// <summary>Where the embedded HSM keeps its files.</summary>
/// <param name="HsmDirectory"><c>&lt;DataDirectory&gt;/hsm</c>.</param>
/// <param name="TokenDirectory">SoftHSM2's token store.</param>
/// <param name="ConfigFile">The <c>softhsm2.conf</c> that <c>SOFTHSM2_CONF</c> points at.</param>
/// <param name="UserPinFile">The generated user PIN.</param>
/// <param name="SoPinFile">The generated security officer PIN.</param>
public sealed record EmbeddedHsmPaths(string HsmDirectory, string TokenDirectory, string ConfigFile, string UserPinFile, string SoPinFile);
