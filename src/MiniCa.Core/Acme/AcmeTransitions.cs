namespace MiniCa.Core.Acme;

/// <summary>
/// The state machines of RFC 8555 §7.1.6, as pure functions: the store applies them, tests check them alone.
/// </summary>
public static class AcmeTransitions
{
    /// <summary>Whether a challenge may move from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static bool CanMove(AcmeChallengeStatus from, AcmeChallengeStatus to) => (from, to) switch
    {
        (AcmeChallengeStatus.Pending, AcmeChallengeStatus.Processing) => true,
        (AcmeChallengeStatus.Processing, AcmeChallengeStatus.Valid or AcmeChallengeStatus.Invalid) => true,
        _ => false,
    };

    /// <summary>An authorization's status once one of its challenges ended (RFC 8555 §7.1.6: one valid challenge validates it).</summary>
    public static AcmeAuthorizationStatus AfterChallenge(AcmeAuthorizationStatus current, bool challengeValid) =>
        current == AcmeAuthorizationStatus.Pending
            ? challengeValid ? AcmeAuthorizationStatus.Valid : AcmeAuthorizationStatus.Invalid
            : current;

    /// <summary>
    /// A not-yet-finalized order's status from its authorizations: invalid if any failed, expired or was
    /// deactivated; ready when all are valid; pending otherwise. Orders past pending/ready keep their status.
    /// </summary>
    public static AcmeOrderStatus FromAuthorizations(AcmeOrderStatus current, IEnumerable<AcmeAuthorizationStatus> authorizations)
    {
        ArgumentNullException.ThrowIfNull(authorizations);
        if (current is not (AcmeOrderStatus.Pending or AcmeOrderStatus.Ready))
        {
            return current;
        }

        var all = authorizations.ToList();
        if (all.Any(a => a is not (AcmeAuthorizationStatus.Pending or AcmeAuthorizationStatus.Valid)))
        {
            return AcmeOrderStatus.Invalid;
        }

        return all.Count > 0 && all.All(a => a == AcmeAuthorizationStatus.Valid) ? AcmeOrderStatus.Ready : AcmeOrderStatus.Pending;
    }

    /// <summary>Only a ready order is finalized (RFC 8555 §7.4: otherwise <c>orderNotReady</c>).</summary>
    public static bool CanFinalize(AcmeOrderStatus status) => status == AcmeOrderStatus.Ready;

    /// <summary>Processing ends valid or invalid.</summary>
    public static bool CanComplete(AcmeOrderStatus status) => status == AcmeOrderStatus.Processing;
}
