using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MiniCa.Data.Migrations
{
    /// <inheritdoc />
    public partial class Revocation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "CrlStates",
                columns: table => new
                {
                    Authority = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    LastNumber = table.Column<long>(type: "INTEGER", nullable: false),
                    PublishedNumber = table.Column<long>(type: "INTEGER", nullable: false),
                    ThisUpdate = table.Column<long>(type: "INTEGER", nullable: true),
                    NextUpdate = table.Column<long>(type: "INTEGER", nullable: true),
                    Entries = table.Column<int>(type: "INTEGER", nullable: false),
                    Der = table.Column<byte[]>(type: "BLOB", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CrlStates", x => x.Authority);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "CrlStates");
        }
    }
}
