using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MiniCa.Data.Migrations
{
    /// <inheritdoc />
    public partial class CrlBlobs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "CrlBlobs",
                columns: table => new
                {
                    Authority = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    Der = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CrlBlobs", x => x.Authority);
                });

            // The published CRLs move to their own table before the column goes.
            migrationBuilder.Sql("INSERT INTO \"CrlBlobs\" (\"Authority\", \"Der\") SELECT \"Authority\", \"Der\" FROM \"CrlStates\" WHERE \"Der\" IS NOT NULL;");

            // SQLite drops a column in place (3.35 and later) inside the migration's transaction; EF's DropColumn
            // would rebuild the table with PRAGMA foreign_keys = 0, which runs outside any transaction.
            migrationBuilder.Sql("ALTER TABLE \"CrlStates\" DROP COLUMN \"Der\";");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<byte[]>(
                name: "Der",
                table: "CrlStates",
                type: "BLOB",
                nullable: true);

            migrationBuilder.Sql("UPDATE \"CrlStates\" SET \"Der\" = (SELECT \"Der\" FROM \"CrlBlobs\" WHERE \"CrlBlobs\".\"Authority\" = \"CrlStates\".\"Authority\");");

            migrationBuilder.DropTable(
                name: "CrlBlobs");
        }
    }
}
