using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Fleet.Server.Storage.Migrations
{
    /// <inheritdoc />
    public partial class Projections : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
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
                name: "projections");
        }
    }
}
