using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

#pragma warning disable CA1814 // Prefer jagged arrays over multidimensional

namespace Fleet.Server.Storage.Migrations
{
    /// <inheritdoc />
    public partial class ProjectionsAlertsNotifications : Migration
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

            migrationBuilder.CreateTable(
                name: "audit_log",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    actor = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    action = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    entity = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    entity_id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    entity_name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    before = table.Column<string>(type: "jsonb", nullable: true),
                    after = table.Column<string>(type: "jsonb", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_log", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "notification_channels",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    kind = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    url = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    min_severity = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    enabled = table.Column<bool>(type: "boolean", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_notification_channels", x => x.id);
                    table.CheckConstraint("ck_notification_channels_kind", "kind IN ('webhook', 'alertmanager')");
                    table.CheckConstraint("ck_notification_channels_min_severity", "min_severity IN ('warning', 'critical')");
                });

            migrationBuilder.CreateTable(
                name: "notification_deliveries",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    channel_id = table.Column<long>(type: "bigint", nullable: false),
                    channel_name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    alert_id = table.Column<long>(type: "bigint", nullable: false),
                    rule_name = table.Column<string>(type: "text", nullable: false),
                    subject = table.Column<string>(type: "text", nullable: false),
                    @event = table.Column<string>(name: "event", type: "character varying(20)", maxLength: 20, nullable: false),
                    payload = table.Column<string>(type: "jsonb", nullable: false),
                    status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    last_attempt_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    next_attempt_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    delivered_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    last_status_code = table.Column<int>(type: "integer", nullable: true),
                    last_error = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_notification_deliveries", x => x.id);
                    table.CheckConstraint("ck_notification_deliveries_event", "event IN ('firing', 'resolved')");
                    table.CheckConstraint("ck_notification_deliveries_status", "status IN ('pending', 'delivered', 'failed')");
                });

            migrationBuilder.CreateTable(
                name: "projections",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    host_id = table.Column<int>(type: "integer", nullable: false),
                    service_id = table.Column<int>(type: "integer", nullable: false),
                    series_key = table.Column<string>(type: "text", nullable: false),
                    pid = table.Column<int>(type: "integer", nullable: true),
                    command = table.Column<string>(type: "text", nullable: true),
                    verdict = table.Column<short>(type: "smallint", nullable: false),
                    slope_per_hour = table.Column<double>(type: "double precision", nullable: false),
                    current_fds = table.Column<double>(type: "double precision", nullable: false),
                    soft_limit = table.Column<long>(type: "bigint", nullable: false),
                    hard_limit = table.Column<long>(type: "bigint", nullable: false),
                    time_to_soft_limit = table.Column<TimeSpan>(type: "interval", nullable: true),
                    time_to_hard_limit = table.Column<TimeSpan>(type: "interval", nullable: true),
                    exhausted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    quality = table.Column<double>(type: "double precision", nullable: false),
                    run_start = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    restarts = table.Column<DateTimeOffset[]>(type: "timestamp with time zone[]", nullable: false),
                    restart_cadence = table.Column<TimeSpan>(type: "interval", nullable: true),
                    reason = table.Column<string>(type: "text", nullable: false),
                    socket_remote = table.Column<string>(type: "text", nullable: true),
                    socket_slope_per_hour = table.Column<double>(type: "double precision", nullable: true),
                    socket_close_wait_now = table.Column<long>(type: "bigint", nullable: true),
                    socket_share_of_fd_rise = table.Column<double>(type: "double precision", nullable: true),
                    computed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    pass_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_projections", x => x.id);
                    table.ForeignKey(
                        name: "fk_projections_host",
                        column: x => x.host_id,
                        principalTable: "hosts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_projections_service",
                        column: x => x.service_id,
                        principalTable: "services",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
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

            migrationBuilder.CreateIndex(
                name: "ix_audit_log_at",
                table: "audit_log",
                column: "at");

            migrationBuilder.CreateIndex(
                name: "ix_audit_log_entity",
                table: "audit_log",
                columns: new[] { "entity", "entity_id" });

            migrationBuilder.CreateIndex(
                name: "ux_notification_channels_name",
                table: "notification_channels",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_notification_deliveries_alert",
                table: "notification_deliveries",
                column: "alert_id");

            migrationBuilder.CreateIndex(
                name: "ix_notification_deliveries_channel",
                table: "notification_deliveries",
                columns: new[] { "channel_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_notification_deliveries_due",
                table: "notification_deliveries",
                column: "next_attempt_at",
                filter: "status = 'pending'");

            migrationBuilder.CreateIndex(
                name: "ix_projections_exhausted_at",
                table: "projections",
                column: "exhausted_at");

            migrationBuilder.CreateIndex(
                name: "ix_projections_host",
                table: "projections",
                column: "host_id");

            migrationBuilder.CreateIndex(
                name: "ux_projections_service_series",
                table: "projections",
                columns: new[] { "service_id", "series_key" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "alert_rules");

            migrationBuilder.DropTable(
                name: "alerts");

            migrationBuilder.DropTable(
                name: "audit_log");

            migrationBuilder.DropTable(
                name: "notification_channels");

            migrationBuilder.DropTable(
                name: "notification_deliveries");

            migrationBuilder.DropTable(
                name: "projections");
        }
    }
}
