using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Fleet.Server.Storage.Migrations
{
    /// <inheritdoc />
    public partial class AlertSilences : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropCheckConstraint(
                name: "ck_notification_deliveries_status",
                table: "notification_deliveries");

            migrationBuilder.CreateTable(
                name: "alert_silences",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    rule_id = table.Column<long>(type: "bigint", nullable: true),
                    rule_name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    host_pattern = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    service_pattern = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    alert_id = table.Column<long>(type: "bigint", nullable: true),
                    host = table.Column<string>(type: "text", nullable: true),
                    service = table.Column<string>(type: "text", nullable: true),
                    pid = table.Column<int>(type: "integer", nullable: true),
                    remote = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    starts_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ends_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    reason = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    created_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ended_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ended_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    released_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_alert_silences", x => x.id);
                    table.CheckConstraint("ck_alert_silences_subject", "(alert_id IS NULL) = (host IS NULL)");
                    table.CheckConstraint("ck_alert_silences_window", "ends_at > starts_at");
                });

            migrationBuilder.AddCheckConstraint(
                name: "ck_notification_deliveries_status",
                table: "notification_deliveries",
                sql: "status IN ('pending', 'delivered', 'failed', 'suppressed')");

            migrationBuilder.CreateIndex(
                name: "ix_alert_silences_created_at",
                table: "alert_silences",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "ix_alert_silences_unreleased",
                table: "alert_silences",
                column: "ends_at",
                filter: "released_at IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "alert_silences");

            migrationBuilder.DropCheckConstraint(
                name: "ck_notification_deliveries_status",
                table: "notification_deliveries");

            migrationBuilder.AddCheckConstraint(
                name: "ck_notification_deliveries_status",
                table: "notification_deliveries",
                sql: "status IN ('pending', 'delivered', 'failed')");
        }
    }
}
