namespace MiniCa.Web.Components.Pages.Account;

/// <summary>Return targets stay on this site.</summary>
internal static class AccountLinks
{
    public static string Local(string? url) => MiniCa.Web.Account.AccountEndpoints.LocalUrl(url);
}
