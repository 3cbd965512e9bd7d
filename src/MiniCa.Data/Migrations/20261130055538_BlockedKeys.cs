using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MiniCa.Data.Migrations
{
    /// <inheritdoc />
    public partial class BlockedKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "PublicKeySha256",
                table: "Certificates",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "BlockedKeys",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    PublicKeySha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Source = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    BlockedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    BlockedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_BlockedKeys", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Certificates_PublicKeySha256",
                table: "Certificates",
                column: "PublicKeySha256");

            migrationBuilder.CreateIndex(
                name: "IX_BlockedKeys_PublicKeySha256",
                table: "BlockedKeys",
                column: "PublicKeySha256",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "BlockedKeys");

            migrationBuilder.DropIndex(
                name: "IX_Certificates_PublicKeySha256",
                table: "Certificates");

            migrationBuilder.DropColumn(
                name: "PublicKeySha256",
                table: "Certificates");
        }
    }
}
