using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MiniCa.Data.Migrations
{
    /// <inheritdoc />
    public partial class KeyGenerations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "KeyGenerations",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    KeyAlgorithm = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    KeyId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    StartedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_KeyGenerations", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_KeyGenerations_Name",
                table: "KeyGenerations",
                column: "Name");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "KeyGenerations");
        }
    }
}
