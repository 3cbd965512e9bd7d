using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MiniCa.Data.Migrations
{
    /// <inheritdoc />
    public partial class InitialAuthorities : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Authorities",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    IssuerName = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    SerialHex = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    Subject = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    KeyUri = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    NotBefore = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    NotAfter = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    TbsDer = table.Column<byte[]>(type: "BLOB", nullable: false),
                    CertificateDer = table.Column<byte[]>(type: "BLOB", nullable: true),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    ActivatedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Authorities", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Authorities_Name",
                table: "Authorities",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Authorities_SerialHex",
                table: "Authorities",
                column: "SerialHex",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "Authorities");
        }
    }
}
