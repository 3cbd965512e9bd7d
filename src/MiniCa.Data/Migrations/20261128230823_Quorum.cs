using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MiniCa.Data.Migrations
{
    /// <inheritdoc />
    public partial class Quorum : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "QuorumOperations",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Target = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    RequestedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    RequestedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false),
                    RequiredApprovals = table.Column<int>(type: "INTEGER", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ExecutedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Outcome = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_QuorumOperations", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "QuorumApprovals",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    OperationId = table.Column<long>(type: "INTEGER", nullable: false),
                    Approver = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    At = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_QuorumApprovals", x => x.Id);
                    table.ForeignKey(
                        name: "FK_QuorumApprovals_QuorumOperations_OperationId",
                        column: x => x.OperationId,
                        principalTable: "QuorumOperations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_QuorumApprovals_OperationId_Approver",
                table: "QuorumApprovals",
                columns: new[] { "OperationId", "Approver" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_QuorumOperations_Kind_Target_Status",
                table: "QuorumOperations",
                columns: new[] { "Kind", "Target", "Status" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "QuorumApprovals");

            migrationBuilder.DropTable(
                name: "QuorumOperations");
        }
    }
}
