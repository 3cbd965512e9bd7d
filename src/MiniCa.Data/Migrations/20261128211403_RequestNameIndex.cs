using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MiniCa.Data.Migrations
{
    /// <inheritdoc />
    public partial class RequestNameIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "RequestNames",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    RequestId = table.Column<long>(type: "INTEGER", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    ReversedName = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RequestNames", x => x.Id);
                    table.ForeignKey(
                        name: "FK_RequestNames_Requests_RequestId",
                        column: x => x.RequestId,
                        principalTable: "Requests",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Requests_Profile_Status_CreatedAt",
                table: "Requests",
                columns: new[] { "Profile", "Status", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Certificates_IdOrder",
                table: "Certificates",
                column: "Id");

            migrationBuilder.CreateIndex(
                name: "IX_Certificates_Profile_Status_Id",
                table: "Certificates",
                columns: new[] { "Profile", "Status", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_Certificates_Status_Id",
                table: "Certificates",
                columns: new[] { "Status", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_RequestNames_Name_RequestId",
                table: "RequestNames",
                columns: new[] { "Name", "RequestId" });

            migrationBuilder.CreateIndex(
                name: "IX_RequestNames_RequestId",
                table: "RequestNames",
                column: "RequestId");

            migrationBuilder.CreateIndex(
                name: "IX_RequestNames_ReversedName_RequestId",
                table: "RequestNames",
                columns: new[] { "ReversedName", "RequestId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "RequestNames");

            migrationBuilder.DropIndex(
                name: "IX_Requests_Profile_Status_CreatedAt",
                table: "Requests");

            migrationBuilder.DropIndex(
                name: "IX_Certificates_IdOrder",
                table: "Certificates");

            migrationBuilder.DropIndex(
                name: "IX_Certificates_Profile_Status_Id",
                table: "Certificates");

            migrationBuilder.DropIndex(
                name: "IX_Certificates_Status_Id",
                table: "Certificates");
        }
    }
}
