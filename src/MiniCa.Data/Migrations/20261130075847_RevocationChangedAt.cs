using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MiniCa.Data.Migrations
{
    /// <inheritdoc />
    public partial class RevocationChangedAt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Certificates_Revoked",
                table: "Certificates");

            migrationBuilder.AddColumn<long>(
                name: "RevocationChangedAt",
                table: "Certificates",
                type: "INTEGER",
                nullable: true);

            // Revocations recorded before: their entry last changed when they were made.
            migrationBuilder.Sql("UPDATE \"Certificates\" SET \"RevocationChangedAt\" = \"RevokedAt\" WHERE \"RevokedAt\" IS NOT NULL;");

            migrationBuilder.CreateIndex(
                name: "IX_Certificates_Revoked",
                table: "Certificates",
                columns: new[] { "IssuerName", "RevocationChangedAt", "SerialHex", "RevokedAt", "RevocationReason", "InvalidityDate" },
                filter: "\"Status\" = 'Revoked'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Certificates_Revoked",
                table: "Certificates");

            migrationBuilder.DropColumn(
                name: "RevocationChangedAt",
                table: "Certificates");

            migrationBuilder.CreateIndex(
                name: "IX_Certificates_Revoked",
                table: "Certificates",
                columns: new[] { "IssuerName", "RevokedAt", "SerialHex", "RevocationReason", "InvalidityDate" },
                filter: "\"Status\" = 'Revoked'");
        }
    }
}
