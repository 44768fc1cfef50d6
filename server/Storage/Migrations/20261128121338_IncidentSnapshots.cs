using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Fleet.Server.Storage.Migrations
{
    /// <inheritdoc />
    public partial class IncidentSnapshots : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "incident_snapshots",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    title = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    notes = table.Column<string>(type: "character varying(20000)", maxLength: 20000, nullable: false),
                    origin = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    hosts = table.Column<string[]>(type: "text[]", nullable: false),
                    service = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    from_time = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    to_time = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    created_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    imported_from = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: true),
                    format_version = table.Column<int>(type: "integer", nullable: false),
                    size_bytes = table.Column<long>(type: "bigint", nullable: false),
                    document = table.Column<byte[]>(type: "bytea", nullable: false),
                    sha256 = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_incident_snapshots", x => x.id);
                    table.CheckConstraint("ck_incident_snapshots_sha256", "octet_length(sha256) = 32");
                    table.CheckConstraint("ck_incident_snapshots_window", "to_time > from_time");
                });

            migrationBuilder.CreateIndex(
                name: "ix_incident_snapshots_created_at",
                table: "incident_snapshots",
                column: "created_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "incident_snapshots");
        }
    }
}
