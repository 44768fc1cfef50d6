using System.Net;
using System.Text;
using System.Text.Json;
using Fleet.Server.Alerts;
using Fleet.Server.Api;
using Fleet.Server.Storage;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Fleet.Server.Tests.Infrastructure;

namespace Fleet.Server.Tests.Alerts;

/// <summary>
/// /api/silences on real Kestrel (127.0.0.1) over the real stores, signed in by <see cref="TestSignIn"/>'s headers under
/// the real policies.
/// </summary>
public sealed class AlertSilenceApiTests(AlertHarness harness) : IClassFixture<AlertHarness>, IAsyncLifetime
{
    private static readonly TimeSpan Timeout = AlertHarness.Timeout;

    private WebApplication? _app;
    private static readonly HttpClient Client = new() { Timeout = Timeout };

    private Uri? _base;
    private long _ruleId;

    private WebApplication App => _app!;

    public async Task InitializeAsync()
    {
        await harness.ResetAsync();
        await using (var cmd = harness.DataSource.CreateCommand("TRUNCATE alert_silences"))
        {
            await cmd.ExecuteNonQueryAsync().WaitAsync(Timeout);
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
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
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _base = new Uri(address);
        var rule = await _app.Services.GetRequiredService<IAlertRules>().CreateAsync(
            new AlertRuleDraft("api fds", AlertMetric.ServiceFdPercent, AlertScopeKind.Fleet, null, null, 80, 75, TimeSpan.Zero, AlertSeverity.Critical, true), "admin", CancellationToken.None).WaitAsync(Timeout);
        _ruleId = rule.Id;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private string ValidSilence => $$"""{"ruleId": {{_ruleId}}, "hostPattern": "web-*", "duration": "02:00:00", "reason": "deploy of api"}""";

    [Theory]
    [InlineData(FleetRoles.Operator)]
    [InlineData(FleetRoles.Admin)]
    public async Task OperatorOrAdmin_CreatesAndEndsASilence_EachAuditedUnderTheirName(string role)
    {
        var created = await SendAsync(HttpMethod.Post, "/api/silences", "ana", role, ValidSilence);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var silence = await ReadAsync(created);
        long id = silence.GetProperty("id").GetInt64();
        var active = await ReadAsync(await SendAsync(HttpMethod.Get, "/api/silences", "vic", FleetRoles.Viewer));
        harness.Clock.Advance(TimeSpan.FromMinutes(10));
        var ended = await SendAsync(HttpMethod.Delete, $"/api/silences/{id}", "bo", role);
        var activeAfter = await ReadAsync(await SendAsync(HttpMethod.Get, "/api/silences?state=active", "vic", FleetRoles.Viewer));
        var all = await ReadAsync(await SendAsync(HttpMethod.Get, "/api/silences?state=all", "vic", FleetRoles.Viewer));

        Assert.Equal((_ruleId, "api fds", "web-*", "deploy of api", "ana", harness.Clock.GetUtcNow().AddMinutes(-10).AddHours(2)),
            (silence.GetProperty("ruleId").GetInt64(), silence.GetProperty("ruleName").GetString(), silence.GetProperty("hostPattern").GetString(),
             silence.GetProperty("reason").GetString(), silence.GetProperty("createdBy").GetString(), silence.GetProperty("endsAt").GetDateTimeOffset()));
        Assert.Equal([id], active.EnumerateArray().Select(s => s.GetProperty("id").GetInt64()));
        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        var endedBody = await ReadAsync(ended);
        Assert.Equal(("bo", harness.Clock.GetUtcNow()), (endedBody.GetProperty("endedBy").GetString(), endedBody.GetProperty("endedAt").GetDateTimeOffset()));
        Assert.Empty(activeAfter.EnumerateArray());
        Assert.Equal([id], all.EnumerateArray().Select(s => s.GetProperty("id").GetInt64()));
        var audit = await App.Services.GetRequiredService<IAlertRules>().AuditAsync(10, CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal([("ended", "bo"), ("created", "ana")], audit.Where(a => a.Entity == "alert-silence").Select(a => (a.Action, a.Actor)));
    }

    [Fact]
    public async Task Viewer_MayListSilences_ButCreatingOrEndingIs403_AndChangesNothing()
    {
        var byOperator = await ReadAsync(await SendAsync(HttpMethod.Post, "/api/silences", "ana", FleetRoles.Operator, ValidSilence));
        long id = byOperator.GetProperty("id").GetInt64();

        var list = await SendAsync(HttpMethod.Get, "/api/silences", "vic", FleetRoles.Viewer);
        var create = await SendAsync(HttpMethod.Post, "/api/silences", "vic", FleetRoles.Viewer, ValidSilence);
        var end = await SendAsync(HttpMethod.Delete, $"/api/silences/{id}", "vic", FleetRoles.Viewer);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (list.StatusCode, create.StatusCode, end.StatusCode));
        var silences = await App.Services.GetRequiredService<IAlertSilences>().ListAsync(true, 10, CancellationToken.None).WaitAsync(Timeout);
        var only = Assert.Single(silences);
        Assert.Equal((id, (string?)null), (only.Id, only.EndedBy));
    }

    [Fact]
    public async Task Anonymous_Is401_OnEverySilenceRoute()
    {
        var list = await SendAsync(HttpMethod.Get, "/api/silences", null, null);
        var create = await SendAsync(HttpMethod.Post, "/api/silences", null, null, ValidSilence);
        var end = await SendAsync(HttpMethod.Delete, "/api/silences/1", null, null);

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (list.StatusCode, create.StatusCode, end.StatusCode));
        Assert.Empty(await App.Services.GetRequiredService<IAlertSilences>().ListAsync(true, 10, CancellationToken.None).WaitAsync(Timeout));
    }

    [Fact]
    public async Task InvalidSilence_Is400_WithEveryErrorUnderItsField()
    {
        var everything = await SendAsync(HttpMethod.Post, "/api/silences", "ana", FleetRoles.Operator, """{"hostPattern": "*", "duration": "00:01:00", "reason": " "}""");
        var unknownRule = await SendAsync(HttpMethod.Post, "/api/silences", "ana", FleetRoles.Operator, """{"ruleId": 987654, "duration": "01:00:00", "reason": "x"}""");
        var badDuration = await SendAsync(HttpMethod.Post, "/api/silences", "ana", FleetRoles.Operator, """{"ruleId": 1, "duration": "soon", "reason": "x"}""");
        var badState = await SendAsync(HttpMethod.Get, "/api/silences?state=later", "vic", FleetRoles.Viewer);

        Assert.Equal(HttpStatusCode.BadRequest, everything.StatusCode);
        Assert.Equal(["duration", "matchers", "reason"], Fields(await ReadAsync(everything)));
        Assert.Equal(["ruleId"], Fields(await ReadAsync(unknownRule)));
        Assert.Equal(["duration"], Fields(await ReadAsync(badDuration)));
        Assert.Equal(["state"], Fields(await ReadAsync(badState)));
        Assert.Empty(await App.Services.GetRequiredService<IAlertSilences>().ListAsync(true, 10, CancellationToken.None).WaitAsync(Timeout));
    }

    [Fact]
    public async Task EndingAnUnknownSilence_Is404()
    {
        var end = await SendAsync(HttpMethod.Delete, "/api/silences/424242", "ana", FleetRoles.Operator);

        Assert.Equal(HttpStatusCode.NotFound, end.StatusCode);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? user, string? role, string? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(_base!, path));
        if (user is not null)
        {
            request.Headers.Add(TestSignIn.UserHeader, user);
        }
        if (role is not null)
        {
            request.Headers.Add(TestSignIn.RoleHeader, role);
        }
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        return await Client.SendAsync(request).WaitAsync(Timeout);
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(Timeout)).RootElement;

    private static string[] Fields(JsonElement problem) => [.. problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];
}
