using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

#pragma warning disable CA1814 // Prefer jagged arrays over multidimensional

namespace Fleet.Server.Storage.Migrations
{
    /// <inheritdoc />
    public partial class Alerts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "alert_rules",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:IdentitySequenceOptions", "'1000', '1', '', '', 'False', '1'")
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    metric = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    scope = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    pattern = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: true),
                    remote = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    threshold = table.Column<double>(type: "double precision", nullable: false),
                    recovery = table.Column<double>(type: "double precision", nullable: false),
                    for_duration = table.Column<TimeSpan>(type: "interval", nullable: false),
                    severity = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    enabled = table.Column<bool>(type: "boolean", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_alert_rules", x => x.id);
                    table.CheckConstraint("ck_alert_rules_for", "for_duration >= interval '0'");
                });

            migrationBuilder.CreateTable(
                name: "alerts",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    rule_id = table.Column<long>(type: "bigint", nullable: false),
                    rule_name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    metric = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    severity = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    state = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    host = table.Column<string>(type: "text", nullable: false),
                    service = table.Column<string>(type: "text", nullable: true),
                    pid = table.Column<int>(type: "integer", nullable: true),
                    remote = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    value = table.Column<double>(type: "double precision", nullable: false),
                    threshold = table.Column<double>(type: "double precision", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    fired_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    resolved_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    last_evaluated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    summary = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_alerts", x => x.id);
                });

            migrationBuilder.InsertData(
                table: "alert_rules",
                columns: new[] { "id", "created_at", "enabled", "for_duration", "metric", "name", "pattern", "recovery", "remote", "scope", "severity", "threshold", "updated_at", "updated_by" },
                values: new object[,]
                {
                    { 1L, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), true, new TimeSpan(0, 0, 5, 0, 0), "ServiceFdPercent", "Service fds over 80% of the soft limit", null, 75.0, null, "Fleet", "Warning", 80.0, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), "fleet (default rule)" },
                    { 2L, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), true, new TimeSpan(0, 0, 1, 0, 0), "ServiceFdPercent", "Service fds over 95% of the soft limit", null, 90.0, null, "Fleet", "Critical", 95.0, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), "fleet (default rule)" },
                    { 3L, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), true, new TimeSpan(0, 0, 10, 0, 0), "TimeToExhaustion", "Fds exhausted within 24 hours", null, 30.0, null, "Fleet", "Warning", 24.0, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), "fleet (default rule)" },
                    { 4L, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), true, new TimeSpan(0, 0, 5, 0, 0), "TimeToExhaustion", "Fds exhausted within 2 hours", null, 3.0, null, "Fleet", "Critical", 2.0, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), "fleet (default rule)" },
                    { 5L, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), true, new TimeSpan(0, 0, 5, 0, 0), "HostFileHandlesPercent", "Host file handles over 90% of file-max", null, 85.0, null, "Fleet", "Warning", 90.0, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), "fleet (default rule)" },
                    { 6L, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), true, new TimeSpan(0, 0, 5, 0, 0), "HostEphemeralPortsPercent", "Ephemeral ports over 80% of the range", null, 70.0, null, "Fleet", "Warning", 80.0, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), "fleet (default rule)" },
                    { 7L, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), true, new TimeSpan(0, 0, 5, 0, 0), "HostConntrackPercent", "Conntrack over 90% of its maximum", null, 85.0, null, "Fleet", "Warning", 90.0, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), "fleet (default rule)" },
                    { 8L, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), true, new TimeSpan(0, 0, 5, 0, 0), "HostOrphansPercent", "Orphan sockets over 80% of the maximum", null, 70.0, null, "Fleet", "Warning", 80.0, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), "fleet (default rule)" },
                    { 9L, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), true, new TimeSpan(0, 0, 0, 0, 0), "AgentOffline", "Agent silent for 2 minutes", null, 1.0, null, "Fleet", "Critical", 2.0, new DateTimeOffset(new DateTime(2026, 11, 28, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), "fleet (default rule)" }
                });

            migrationBuilder.CreateIndex(
                name: "ix_alerts_host_started_at",
                table: "alerts",
                columns: new[] { "host", "started_at" });

            migrationBuilder.CreateIndex(
                name: "ix_alerts_started_at",
                table: "alerts",
                column: "started_at");

            migrationBuilder.CreateIndex(
                name: "ux_alerts_open_subject",
                table: "alerts",
                columns: new[] { "rule_id", "host", "service", "pid", "remote" },
                unique: true,
                filter: "state <> 'Resolved'")
                .Annotation("Npgsql:NullsDistinct", false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "alert_rules");

            migrationBuilder.DropTable(
                name: "alerts");
        }
    }
}
