using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MiniCa.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class AuditKeyRotations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AuditKeyRotations",
                columns: table => new
                {
                    ReplacedKeySha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    EventId = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditKeyRotations", x => x.ReplacedKeySha256);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AuditKeyRotations");
        }
    }
}
