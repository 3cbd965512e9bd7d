using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MiniCa.Data.Migrations
{
    /// <inheritdoc />
    public partial class Acme : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AcmeAccounts",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Thumbprint = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Jwk = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: false),
                    Contacts = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ExternalAccountId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    PortalUser = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AcmeAccounts", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AcmeEabKeys",
                columns: table => new
                {
                    KeyId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    HmacKey = table.Column<byte[]>(type: "BLOB", nullable: false),
                    PortalUser = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    AccountId = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AcmeEabKeys", x => x.KeyId);
                });

            migrationBuilder.CreateTable(
                name: "AcmeNonces",
                columns: table => new
                {
                    Value = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Expires = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AcmeNonces", x => x.Value);
                });

            migrationBuilder.CreateTable(
                name: "AcmeOrders",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    AccountId = table.Column<long>(type: "INTEGER", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Identifiers = table.Column<string>(type: "TEXT", nullable: false),
                    Profile = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Expires = table.Column<long>(type: "INTEGER", nullable: false),
                    NotBefore = table.Column<long>(type: "INTEGER", nullable: true),
                    NotAfter = table.Column<long>(type: "INTEGER", nullable: true),
                    ErrorType = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    ErrorDetail = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    CertificateSerial = table.Column<string>(type: "TEXT", maxLength: 40, nullable: true),
                    RequestId = table.Column<long>(type: "INTEGER", nullable: true),
                    Replaces = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AcmeOrders", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AcmeAuthorizations",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    OrderId = table.Column<long>(type: "INTEGER", nullable: false),
                    AccountId = table.Column<long>(type: "INTEGER", nullable: false),
                    IdentifierType = table.Column<string>(type: "TEXT", maxLength: 8, nullable: false),
                    IdentifierValue = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Wildcard = table.Column<bool>(type: "INTEGER", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Expires = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AcmeAuthorizations", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AcmeAuthorizations_AcmeOrders_OrderId",
                        column: x => x.OrderId,
                        principalTable: "AcmeOrders",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AcmeChallenges",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    AuthorizationId = table.Column<long>(type: "INTEGER", nullable: false),
                    Type = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Token = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ValidatedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    ErrorType = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    ErrorDetail = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AcmeChallenges", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AcmeChallenges_AcmeAuthorizations_AuthorizationId",
                        column: x => x.AuthorizationId,
                        principalTable: "AcmeAuthorizations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AcmeAccounts_Thumbprint",
                table: "AcmeAccounts",
                column: "Thumbprint",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AcmeAuthorizations_OrderId",
                table: "AcmeAuthorizations",
                column: "OrderId");

            migrationBuilder.CreateIndex(
                name: "IX_AcmeChallenges_AuthorizationId",
                table: "AcmeChallenges",
                column: "AuthorizationId");

            migrationBuilder.CreateIndex(
                name: "IX_AcmeNonces_Expires",
                table: "AcmeNonces",
                column: "Expires");

            migrationBuilder.CreateIndex(
                name: "IX_AcmeOrders_AccountId_CreatedAt",
                table: "AcmeOrders",
                columns: new[] { "AccountId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_AcmeOrders_CertificateSerial",
                table: "AcmeOrders",
                column: "CertificateSerial");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AcmeAccounts");

            migrationBuilder.DropTable(
                name: "AcmeChallenges");

            migrationBuilder.DropTable(
                name: "AcmeEabKeys");

            migrationBuilder.DropTable(
                name: "AcmeNonces");

            migrationBuilder.DropTable(
                name: "AcmeAuthorizations");

            migrationBuilder.DropTable(
                name: "AcmeOrders");
        }
    }
}
