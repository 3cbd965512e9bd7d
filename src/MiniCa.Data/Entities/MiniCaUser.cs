using Microsoft.AspNetCore.Identity;

namespace MiniCa.Data.Entities;

/// <summary>A portal user (ASP.NET Core Identity), stored in the issuance database.</summary>
public sealed class MiniCaUser : IdentityUser
{
    /// <summary>A new user named <paramref name="userName"/>.</summary>
    public MiniCaUser(string userName)
        : base(userName)
    {
    }

    /// <summary>For EF Core.</summary>
    public MiniCaUser()
    {
    }

    /// <summary>When the account was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }
}
