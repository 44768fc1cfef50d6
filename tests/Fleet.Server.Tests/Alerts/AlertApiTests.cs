using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fleet.Server.Alerts;
using Fleet.Server.Api;
using Fleet.Server.Storage;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Fleet.Server.Tests.Infrastructure;

namespace Fleet.Server.Tests.Alerts;

/// <summary>The alert HTTP API over the real stores (background jobs off), through an in-memory test server.</summary>
public sealed class AlertApiTests(AlertHarness harness) : IClassFixture<AlertHarness>, IAsyncLifetime
{
    private static readonly TimeSpan Timeout = AlertHarness.Timeout;

    private WebApplication? _app;
    private HttpClient? _client;

    private HttpClient Client => _client!;

    public async Task InitializeAsync()
    {
        await harness.ResetAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Fleet"] = harness.Database.ConnectionString });
        builder.Services.AddSingleton<TimeProvider>(harness.Clock);
        builder.Services.AddFleetStorage(builder.Configuration);
        builder.Services.AddAlerts(builder.Configuration);
        builder.Services.RemoveAll<IHostedService>();
        builder.Services.AddTestSignIn();
        _app = builder.Build();
        _app.UseTestSignIn();
        _app.MapAlertApi();
        await _app.StartAsync().WaitAsync(Timeout);
        _client = _app.GetTestClient().As(FleetRoles.Admin);
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private const string ValidRule = """
        {"name": "api fds", "metric": "ServiceFdPercent", "scope": "Service", "pattern": "api*", "threshold": 85, "recovery": 80,
         "for": "00:03:00", "severity": "Critical", "enabled": true}
        """;

    [Fact]
    public async Task PostGetPutDelete_ARule_EnumsByName_EachChangeAuditedAsTheSignedInUser()
    {
        var created = await Client.PostAsync("/api/alert-rules", Json(ValidRule)).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var rule = await ReadAsync(created);
        long id = rule.GetProperty("id").GetInt64();
        var draft = rule.GetProperty("draft");
        Assert.Equal(("api fds", "ServiceFdPercent", "Service", "api*", 85.0, "00:03:00", "Critical"),
            (draft.GetProperty("name").GetString(), draft.GetProperty("metric").GetString(), draft.GetProperty("scope").GetString(), draft.GetProperty("pattern").GetString(),
             draft.GetProperty("threshold").GetDouble(), draft.GetProperty("for").GetString(), draft.GetProperty("severity").GetString()));

        var got = await ReadAsync(await Client.GetAsync($"/api/alert-rules/{id}").WaitAsync(Timeout));
        var list = await ReadAsync(await Client.GetAsync("/api/alert-rules").WaitAsync(Timeout));
        var put = await Client.PutAsync($"/api/alert-rules/{id}", Json(ValidRule.Replace("\"threshold\": 85", "\"threshold\": 90", StringComparison.Ordinal))).WaitAsync(Timeout);
        var deleted = await Client.DeleteAsync($"/api/alert-rules/{id}").WaitAsync(Timeout);
        var gone = await Client.GetAsync($"/api/alert-rules/{id}").WaitAsync(Timeout);
        var audit = await ReadAsync(await Client.GetAsync("/api/audit").WaitAsync(Timeout));

        Assert.Equal(id, got.GetProperty("id").GetInt64());
        Assert.Equal([id], list.EnumerateArray().Select(r => r.GetProperty("id").GetInt64()));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(90.0, (await ReadAsync(put)).GetProperty("draft").GetProperty("threshold").GetDouble());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(["deleted", "updated", "created"], audit.EnumerateArray().Select(a => a.GetProperty("action").GetString()));
        Assert.All(audit.EnumerateArray(), a => Assert.Equal(TestSignIn.DefaultUser, a.GetProperty("actor").GetString()));
    }

    [Fact]
    public async Task PostInvalidRule_Is400WithEveryErrorUnderItsField()
    {
        var response = await Client.PostAsync("/api/alert-rules", Json("""
            {"name": "", "metric": "ServiceFdPercent", "scope": "HostPattern", "threshold": 120, "recovery": 130, "for": "2.00:00:00", "severity": "Warning", "enabled": true}
            """)).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await ReadAsync(response)).GetProperty("errors");
        Assert.Equal(["for", "name", "pattern", "recovery", "threshold"], errors.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("required", errors.GetProperty("name")[0].GetString());
        Assert.Empty(await ReadArrayAsync("/api/alert-rules"));
    }

    [Theory]
    [InlineData("""{"name": "x", "metric": "NoSuchMetric", "scope": "Fleet", "threshold": 1, "recovery": 1, "for": "00:00:00", "severity": "Warning", "enabled": true}""", "metric")]
    [InlineData("""{"name": "x", "metric": 99, "scope": "Fleet", "threshold": 1, "recovery": 1, "for": "00:00:00", "severity": "Warning", "enabled": true}""", "metric")]
    [InlineData("""{"name": "x", "metric": "ServiceCloseWait", "scope": "Fleet", "threshold": 1, "recovery": 1, "for": "five minutes", "severity": "Warning", "enabled": true}""", "for")]
    [InlineData("""{"name": "x", """, "body")]
    [InlineData("", "body")]
    public async Task PostUnreadableRule_Is400NamingTheField(string body, string field)
    {
        var response = await Client.PostAsync("/api/alert-rules", Json(body)).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal([field], (await ReadAsync(response)).GetProperty("errors").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task UnknownRuleId_Is404ForGetPutAndDelete()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/api/alert-rules/999999").WaitAsync(Timeout)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.PutAsync("/api/alert-rules/999999", Json(ValidRule)).WaitAsync(Timeout)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.DeleteAsync("/api/alert-rules/999999").WaitAsync(Timeout)).StatusCode);
    }

    [Fact]
    public async Task Alerts_ActiveAndAll_OfOneHost_BadParametersAre400()
    {
        var clock = harness.Clock;
        var evaluator = _app!.Services.GetRequiredService<AlertEvaluator>();
        await _app.Services.GetRequiredService<IAlertRules>().CreateAsync(
            new AlertRuleDraft("fds", AlertMetric.ServiceFdPercent, AlertScopeKind.Fleet, null, null, 80, 75, TimeSpan.Zero, AlertSeverity.Warning, true), "t", CancellationToken.None).WaitAsync(Timeout);
        await evaluator.EvaluateAsync(
            [new("api-host-1", Dashboard.DashboardSnapshots.Make("api-host-1", 1, clock.GetUtcNow(), new Dashboard.Proc("api", 1, 900, 1000))),
             new("api-host-2", Dashboard.DashboardSnapshots.Make("api-host-2", 1, clock.GetUtcNow(), new Dashboard.Proc("api", 1, 900, 1000)))],
            CancellationToken.None).WaitAsync(Timeout);
        clock.Advance(TimeSpan.FromMinutes(1));
        await evaluator.EvaluateAsync(
            [new("api-host-2", Dashboard.DashboardSnapshots.Make("api-host-2", 2, clock.GetUtcNow(), new Dashboard.Proc("api", 1, 100, 1000)))], CancellationToken.None).WaitAsync(Timeout);

        var active = await ReadArrayAsync("/api/alerts");
        var activeOfOne = await ReadArrayAsync("/api/alerts?state=active&host=api-host-2");
        var all = await ReadArrayAsync("/api/alerts?state=all&host=api-host-2");
        var bad = await Client.GetAsync("/api/alerts?state=open&limit=0&from=yesterday").WaitAsync(Timeout);

        Assert.Equal([("api-host-1", "Firing")], active.Select(a => (a.GetProperty("host").GetString(), a.GetProperty("state").GetString())));
        Assert.Empty(activeOfOne);
        Assert.Equal(["Resolved"], all.Select(a => a.GetProperty("state").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(["from", "limit", "state"], (await ReadAsync(bad)).GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Timeout);

    private async Task<List<JsonElement>> ReadArrayAsync(string url)
    {
        var response = await Client.GetAsync(url).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await ReadAsync(response)).EnumerateArray()];
    }
}
