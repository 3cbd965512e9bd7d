using System.Text.Json.Serialization;

namespace MiniCa.Acme.Wire;

// Wire types: the JSON objects of RFC 8555 §7.1, named after them. Domain records never go on the wire.

/// <summary>RFC 8555 §7.1.1 directory.</summary>
internal sealed record DirectoryResource(
    [property: JsonPropertyName("newNonce")] string NewNonce,
    [property: JsonPropertyName("newAccount")] string NewAccount,
    [property: JsonPropertyName("newOrder")] string NewOrder,
    [property: JsonPropertyName("revokeCert")] string RevokeCert,
    [property: JsonPropertyName("keyChange")] string KeyChange,
    [property: JsonPropertyName("renewalInfo")] string RenewalInfo,
    [property: JsonPropertyName("meta")] DirectoryMeta Meta);

/// <summary>RFC 8555 §7.1.1 directory metadata, with the profiles extension (draft-ietf-acme-profiles).</summary>
internal sealed record DirectoryMeta(
    [property: JsonPropertyName("termsOfService")] string? TermsOfService,
    [property: JsonPropertyName("website")] string? Website,
    [property: JsonPropertyName("caaIdentities")] IReadOnlyList<string> CaaIdentities,
    [property: JsonPropertyName("externalAccountRequired")] bool ExternalAccountRequired,
    [property: JsonPropertyName("profiles")] IReadOnlyDictionary<string, string> Profiles);

/// <summary>RFC 8555 §7.1.2 account object.</summary>
internal sealed record AccountResource(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("contact")] IReadOnlyList<string> Contact,
    [property: JsonPropertyName("orders")] string Orders,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt);

/// <summary>RFC 8555 §9.7.7 identifier.</summary>
internal sealed record IdentifierResource(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("value")] string Value);

/// <summary>RFC 8555 §7.1.3 order object.</summary>
internal sealed record OrderResource(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("expires")] DateTimeOffset Expires,
    [property: JsonPropertyName("identifiers")] IReadOnlyList<IdentifierResource> Identifiers,
    [property: JsonPropertyName("notBefore")] DateTimeOffset? NotBefore,
    [property: JsonPropertyName("notAfter")] DateTimeOffset? NotAfter,
    [property: JsonPropertyName("error")] ProblemResource? Error,
    [property: JsonPropertyName("authorizations")] IReadOnlyList<string> Authorizations,
    [property: JsonPropertyName("finalize")] string Finalize,
    [property: JsonPropertyName("certificate")] string? Certificate,
    [property: JsonPropertyName("profile")] string Profile,
    [property: JsonPropertyName("replaces")] string? Replaces);

/// <summary>RFC 8555 §7.1.4 authorization object.</summary>
internal sealed record AuthorizationResource(
    [property: JsonPropertyName("identifier")] IdentifierResource Identifier,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("expires")] DateTimeOffset Expires,
    [property: JsonPropertyName("challenges")] IReadOnlyList<ChallengeResource> Challenges,
    [property: JsonPropertyName("wildcard")] bool? Wildcard);

/// <summary>RFC 8555 §8 challenge object.</summary>
internal sealed record ChallengeResource(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("validated")] DateTimeOffset? Validated,
    [property: JsonPropertyName("error")] ProblemResource? Error);

/// <summary>RFC 8555 §6.7 / RFC 7807 problem document.</summary>
internal sealed record ProblemResource(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("detail")] string Detail,
    [property: JsonPropertyName("status")] int? Status,
    [property: JsonPropertyName("subproblems")] IReadOnlyList<SubproblemResource>? Subproblems);

/// <summary>RFC 8555 §6.7.1 subproblem.</summary>
internal sealed record SubproblemResource(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("detail")] string Detail,
    [property: JsonPropertyName("identifier")] IdentifierResource Identifier);

/// <summary>RFC 9773 §4.2 renewal information.</summary>
internal sealed record RenewalInfoResource(
    [property: JsonPropertyName("suggestedWindow")] SuggestedWindow SuggestedWindow,
    [property: JsonPropertyName("explanationURL")] string? ExplanationUrl);

/// <summary>RFC 9773 §4.2 suggested window.</summary>
internal sealed record SuggestedWindow(
    [property: JsonPropertyName("start")] DateTimeOffset Start,
    [property: JsonPropertyName("end")] DateTimeOffset End);

/// <summary>RFC 8555 §7.3 newAccount payload.</summary>
internal sealed record NewAccountPayload(
    [property: JsonPropertyName("contact")] IReadOnlyList<string>? Contact,
    [property: JsonPropertyName("termsOfServiceAgreed")] bool? TermsOfServiceAgreed,
    [property: JsonPropertyName("onlyReturnExisting")] bool? OnlyReturnExisting,
    [property: JsonPropertyName("externalAccountBinding")] System.Text.Json.JsonElement? ExternalAccountBinding);

/// <summary>RFC 8555 §7.3.2 / §7.3.6 account update payload.</summary>
internal sealed record AccountUpdatePayload(
    [property: JsonPropertyName("contact")] IReadOnlyList<string>? Contact,
    [property: JsonPropertyName("status")] string? Status);

/// <summary>RFC 8555 §7.4 newOrder payload, with <c>profile</c> and RFC 9773 <c>replaces</c>.</summary>
internal sealed record NewOrderPayload(
    [property: JsonPropertyName("identifiers")] IReadOnlyList<IdentifierResource>? Identifiers,
    [property: JsonPropertyName("notBefore")] DateTimeOffset? NotBefore,
    [property: JsonPropertyName("notAfter")] DateTimeOffset? NotAfter,
    [property: JsonPropertyName("profile")] string? Profile,
    [property: JsonPropertyName("replaces")] string? Replaces);

/// <summary>RFC 8555 §7.4 finalize payload.</summary>
internal sealed record FinalizePayload([property: JsonPropertyName("csr")] string? Csr);

/// <summary>RFC 8555 §7.5.2 authorization deactivation payload.</summary>
internal sealed record AuthorizationUpdatePayload([property: JsonPropertyName("status")] string? Status);

/// <summary>RFC 8555 §7.6 revocation payload.</summary>
internal sealed record RevocationPayload(
    [property: JsonPropertyName("certificate")] string? Certificate,
    [property: JsonPropertyName("reason")] int? Reason);

/// <summary>RFC 8555 §7.3.5 inner key-change payload.</summary>
internal sealed record KeyChangePayload(
    [property: JsonPropertyName("account")] string? Account,
    [property: JsonPropertyName("oldKey")] System.Text.Json.JsonElement? OldKey);

/// <summary>RFC 8555 §7.1.2.1 orders list.</summary>
internal sealed record OrdersListResource([property: JsonPropertyName("orders")] IReadOnlyList<string> Orders);
