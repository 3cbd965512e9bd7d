using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MiniCa.Data.Migrations
{
    /// <inheritdoc />
    public partial class RevokedIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_Certificates_Revoked",
                table: "Certificates",
                columns: new[] { "IssuerName", "RevokedAt", "SerialHex", "RevocationReason", "InvalidityDate" },
                filter: "\"Status\" = 'Revoked'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Certificates_Revoked",
                table: "Certificates");
        }
    }
}
