using System.Net;
using System.Text.Json;
using Fleet.Server.Api;
using Fleet.Server.Dashboard;
using Fleet.Server.Tests.Dashboard;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using static Fleet.Server.Tests.Dashboard.DashboardSnapshots;
using static Fleet.Server.Tests.Projection.Job.ProjectionJobHarness;
using Fleet.Server.Tests.Infrastructure;

namespace Fleet.Server.Tests.Projection.Job;

/// <summary>
/// Four instances of one host (a database of their own, since the overview reads every host): two leaks, one near its
/// soft limit but flat, one low and flat; one job pass, then the overview, the pages and the HTTP API read the projections.
/// </summary>
public sealed class ProjectionAtRiskAndApiTests(ProjectionJobHarness harness) : IClassFixture<ProjectionJobHarness>, IAsyncLifetime
{
    private static readonly DateTimeOffset Now = Start;
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(30);
    private const string Host = "pr-risk";

    public async Task InitializeAsync()
    {
        if (await harness.Storage.ScalarAsync<long>("SELECT count(*) FROM hosts WHERE hostname = $1", Host) > 0)
        {
            return;
        }
        // Now: soon at 500 of 1000 rising 30/h (16.7 h left); later at 200 of 1000 rising 10/h (80 h left); high flat
        // at 950 of 1000; low flat at 100 of 1000.
        await harness.Storage.StoreAsync(Make(Host, 1, Now,
            new Proc("soon", 10, 500, 1000), new Proc("later", 20, 200, 1000), new Proc("high", 30, 950, 1000), new Proc("low", 40, 100, 1000)));
        int host = await harness.HostIdAsync(Host);
        var times = Every(Step, Now.AddHours(-12), Now).ToList();
        foreach (var (service, pid, seed, fds) in new (string, int, int, Func<DateTimeOffset, double>)[]
        {
            ("soon", 10, 11, t => 500 - 30 * (Now - t).TotalHours),
            ("later", 20, 12, t => 200 - 10 * (Now - t).TotalHours),
            ("high", 30, 13, _ => 950),
            ("low", 40, 14, _ => 100),
        })
        {
            var noise = Noise(seed, 3);
            await harness.WriteInstanceAsync(host, await harness.ServiceIdAsync(Host, service), pid, 1000, 524288,
                times.Select(t => (t, (int)Math.Round(Math.Max(0, fds(t) + noise())))));
        }
        await harness.NewJob().RunPassAsync(CancellationToken.None).WaitAsync(TestTimeout);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Overview_AtRisk_ListsLeaksBySoonestExhaustionFirst_ThenTheRestByPercentOfTheSoftLimit_WithTheirProjections()
    {
        var overview = await new PostgresDashboardData(harness.DataSource).OverviewAsync(CancellationToken.None).WaitAsync(TestTimeout);

        Assert.Equal(["soon", "later", "high", "low"], overview.AtRisk.Select(r => r.Service));
        var soon = overview.AtRisk[0].Projection;
        Assert.NotNull(soon);
        Assert.Equal(LeakVerdict.Leak, soon.Verdict);
        Assert.InRange(soon.TimeToSoftLimit!.Value.TotalHours, 500 / 30.0 * 0.9, 500 / 30.0 * 1.1);
        Assert.Equal(LeakVerdict.Leak, overview.AtRisk[1].Projection?.Verdict);
        Assert.Equal(LeakVerdict.NoLeak, overview.AtRisk[2].Projection?.Verdict);
        Assert.Equal(LeakVerdict.NoLeak, overview.AtRisk[3].Projection?.Verdict);
    }

    [Fact]
    public async Task Leaks_AreTheLeakingInstances_SoonestFirst()
    {
        var leaks = await harness.Store.LeaksAsync(10, CancellationToken.None).WaitAsync(TestTimeout);

        Assert.Equal(["soon", "later"], leaks.Select(l => l.Service));
        Assert.All(leaks, l => Assert.Null(l.Pid));
    }

    [Fact]
    public async Task HostAndServicePages_CarryTheInstanceProjection()
    {
        var data = new PostgresDashboardData(harness.DataSource);
        var window = Window(Now.AddHours(-1), Now);

        var host = await data.HostAsync(Host, window, CancellationToken.None).WaitAsync(TestTimeout);
        var service = await data.ServiceAsync("soon", window, CancellationToken.None).WaitAsync(TestTimeout);

        Assert.NotNull(host);
        Assert.Equal(LeakVerdict.Leak, host.Detail.Services.Single(s => s.Name == "soon").Projection?.Verdict);
        Assert.Equal(LeakVerdict.NoLeak, host.Detail.Services.Single(s => s.Name == "high").Projection?.Verdict);
        Assert.NotNull(service);
        Assert.Equal(LeakVerdict.Leak, Assert.Single(service.Instances).Latest.Projection?.Verdict);
    }

    [Fact]
    public async Task Api_ReturnsTheStoredProjections_AndNamesUnknownHostsAndBadValues()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton(harness.Store);
        builder.Services.AddTestSignIn();
        await using var app = builder.Build();
        app.UseTestSignIn();
        app.MapProjectionApi();
        await app.StartAsync().WaitAsync(TestTimeout);
        using var http = app.GetTestClient().As(FleetRoles.Viewer);
        var stored = await harness.Store.HostAsync(Host, CancellationToken.None).WaitAsync(TestTimeout);

        foreach (string path in new[] { $"/api/hosts/{Host}/projections", $"/api/projections?host={Host}" })
        {
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative)).WaitAsync(TestTimeout);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(stored.Count, json.GetArrayLength());
            for (int i = 0; i < stored.Count; i++)
            {
                var row = json[i];
                Assert.Equal(stored[i].Service, row.GetProperty("service").GetString());
                Assert.Equal(stored[i].Verdict.ToString(), row.GetProperty("verdict").GetString());
                Assert.Equal(stored[i].SlopePerHour, row.GetProperty("slopePerHour").GetDouble(), 6);
                Assert.Equal(stored[i].TimeToSoftLimit?.TotalSeconds, row.GetProperty("timeToSoftLimitSeconds") is { ValueKind: JsonValueKind.Number } s ? s.GetDouble() : null);
                Assert.Equal(stored[i].Quality, row.GetProperty("quality").GetDouble(), 6);
                Assert.Equal(stored[i].Reason, row.GetProperty("reason").GetString());
                Assert.Equal(stored[i].Restarts.Count, row.GetProperty("restarts").GetArrayLength());
            }
        }

        using (var response = await http.GetAsync(new Uri($"/api/projections?service=soon", UriKind.Relative)).WaitAsync(TestTimeout))
        {
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.All(json.EnumerateArray(), r => Assert.Equal("soon", r.GetProperty("service").GetString()));
            Assert.Single(json.EnumerateArray(), r => r.GetProperty("pid").ValueKind == JsonValueKind.Null);
        }
        using (var response = await http.GetAsync(new Uri("/api/hosts/no-such-host/projections", UriKind.Relative)).WaitAsync(TestTimeout))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("no-such-host", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var response = await http.GetAsync(new Uri("/api/projections?host=no-such-host", UriKind.Relative)).WaitAsync(TestTimeout))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("no-such-host", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var response = await http.GetAsync(new Uri("/api/projections?service=no-such-service", UriKind.Relative)).WaitAsync(TestTimeout))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("no-such-service", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var response = await http.GetAsync(new Uri("/api/projections?host=&service=" + new string('s', 300), UriKind.Relative)).WaitAsync(TestTimeout))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.True(problem.GetProperty("errors").TryGetProperty("host", out _));
            Assert.True(problem.GetProperty("errors").TryGetProperty("service", out _));
        }
    }
}
