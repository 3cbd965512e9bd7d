using MiniCa.Core.Ledger;
using MiniCa.Core.Linting;

namespace MiniCa.Authority.Issuance;

/// <summary>A CSR submitted for a profile.</summary>
public sealed record IssuanceSubmission
{
    /// <summary>The CSR as received (PEM text or DER bytes).</summary>
    public required byte[] Csr { get; init; }

    /// <summary>The profile asked for.</summary>
    public required string Profile { get; init; }

    /// <summary>Who asks.</summary>
    public required string Requester { get; init; }

    /// <summary><c>cli</c>, <c>portal</c>, <c>api</c> or <c>acme</c>.</summary>
    public required string Source { get; init; }

    /// <summary>Requested validity in days (at most the profile's); absent for the profile's default.</summary>
    public int? ValidityDays { get; init; }
}

/// <summary>What became of a submission.</summary>
public sealed record IssuanceOutcome
{
    /// <summary>The request's number (every submission is recorded).</summary>
    public required long RequestId { get; init; }

    /// <summary>Issued, Pending (approval needed), Rejected (bad CSR or policy) or Failed (lint, HSM, storage).</summary>
    public required RequestStatus Status { get; init; }

    /// <summary>Every reason for a rejection or failure.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    /// <summary>Lint warnings recorded with an issued certificate.</summary>
    public IReadOnlyList<LintFinding> Warnings { get; init; } = [];

    /// <summary>The DER certificate when issued.</summary>
    public byte[]? Certificate { get; init; }

    /// <summary>Its serial (lowercase hex) when issued.</summary>
    public string? SerialHex { get; init; }

    /// <summary>Approvals still needed when pending.</summary>
    public int ApprovalsNeeded { get; init; }
}
