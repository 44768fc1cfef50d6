using System.Net;
using System.Text.Json;
using Fleet.Server.Api;
using Fleet.Server.Compare;
using Fleet.Server.Dashboard;
using Fleet.Server.Tests.Storage;
using Fleet.Web.Compare;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Fleet.Server.Tests.Infrastructure;

namespace Fleet.Server.Tests.Compare;

/// <summary>GET /api/compare and /api/drift on a test server over a real database.</summary>
public sealed class CompareApiTests(StorageHarness harness) : IClassFixture<StorageHarness>, IAsyncLifetime
{
    private static readonly TimeSpan Timeout = StorageHarness.Timeout;

    private WebApplication? _app;
    private HttpClient? _client;

    private HttpClient Client => _client!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddSingleton<NpgsqlDataSource>(harness.DataSource);
        builder.Services.AddSingleton<TimeProvider>(harness.Clock);
        builder.Services.AddProblemDetails();
        builder.Services.AddDashboard();
        builder.Services.AddCompare(builder.Configuration);
        builder.Services.AddTestSignIn();
        _app = builder.Build();
        _app.UseTestSignIn();
        _app.MapCompareApi();
        await _app.StartAsync().WaitAsync(Timeout);
        _client = _app.GetTestClient().As(FleetRoles.Viewer);
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string uri)
    {
        using var response = await Client.GetAsync(new Uri(uri, UriKind.Relative)).WaitAsync(Timeout);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(Timeout);
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task Compare_AnswersTheComparisonOfTheStoredHosts()
    {
        await CompareLimitsTests.StoreTwoHostsAsync(harness, "api-busy", "api-roomy");

        var (status, body) = await GetAsync("/api/compare?hosts=api-busy,api-roomy&service=orders-api&range=1h");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("orders-api", body.GetProperty("service").GetString());
        Assert.Equal(["orders-api on api-busy", "orders-api on api-roomy"], body.GetProperty("subjects").EnumerateArray().Select(s => s.GetProperty("label").GetString()));
        var differing = body.GetProperty("settings").EnumerateArray().Where(r => r.GetProperty("differs").GetBoolean()).Select(r => r.GetProperty("key").GetString()).ToList();
        Assert.Equal([HostSettings.NofileSoft, HostSettings.PortRange, HostSettings.ConntrackMax], differing);
        Assert.Contains(body.GetProperty("findings").EnumerateArray(), f => f.GetProperty("severity").GetString() == nameof(TroubleSeverity.Critical)
            && f.GetProperty("subject").GetString() == "orders-api on api-busy");
        Assert.Equal(2, body.GetProperty("series").GetProperty("openFds").GetProperty("series").GetArrayLength());
    }

    [Fact]
    public async Task Compare_WithAnUnknownHost_ComparesTheOthersAndListsItMissing_AndWithOnlyUnknownOnes_Is404()
    {
        await CompareLimitsTests.StoreTwoHostsAsync(harness, "miss-a", "miss-b");

        var (status, body) = await GetAsync("/api/compare?hosts=miss-a&hosts=nobody&hosts=miss-b");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["nobody"], body.GetProperty("missingHosts").EnumerateArray().Select(h => h.GetString()));
        Assert.Equal(2, body.GetProperty("subjects").GetArrayLength());

        var (none, problem) = await GetAsync("/api/compare?hosts=nobody,nobody-else");
        Assert.Equal(HttpStatusCode.NotFound, none);
        Assert.Contains("nobody-else", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/compare", "hosts")]
    [InlineData("/api/compare?hosts=a", "hosts")]
    [InlineData("/api/compare?hosts=a,b&range=2h", "range")]
    [InlineData("/api/compare?hosts=a,b&range=1h&from=-2h", "range")]
    [InlineData("/api/compare?hosts=a,b&range=custom&from=-2h", "to")]
    [InlineData("/api/compare?hosts=a,b&from=yesterday", "from")]
    [InlineData("/api/compare?hosts=a,b&from=-1h&to=-2h", "from")]
    public async Task Compare_RefusesBadInput_NamingTheParameter(string uri, string parameter)
    {
        var (status, body) = await GetAsync(uri);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(body.GetProperty("errors").TryGetProperty(parameter, out _), body.ToString());
    }

    [Fact]
    public async Task Compare_RefusesMoreHostsThanTheLimit()
    {
        var hosts = string.Join(",", Enumerable.Range(0, SnapshotRequest.MaxHosts + 1).Select(i => $"h{i}"));

        var (status, body) = await GetAsync("/api/compare?hosts=" + hosts);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains($"at most {SnapshotRequest.MaxHosts}", body.GetProperty("errors").GetProperty("hosts")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compare_FromTo_IsACustomWindow()
    {
        await CompareLimitsTests.StoreTwoHostsAsync(harness, "win-a", "win-b");
        var from = StorageHarness.Start.AddMinutes(-45).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

        var (status, body) = await GetAsync($"/api/compare?hosts=win-a,win-b&from={from}&to=now");

        Assert.Equal(HttpStatusCode.OK, status);
        var window = body.GetProperty("window");
        Assert.Equal(StorageHarness.Start.AddMinutes(-45), window.GetProperty("from").GetDateTimeOffset());
        Assert.Equal(StorageHarness.Start, window.GetProperty("to").GetDateTimeOffset());
        Assert.Equal("custom", window.GetProperty("rangeKey").GetString());
    }

    [Fact]
    public async Task Drift_Answers()
    {
        await CompareLimitsTests.StoreTwoHostsAsync(harness, "drift-api-a", "drift-api-b");

        var (status, body) = await GetAsync("/api/drift");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body.GetProperty("hostsRead").GetInt32() >= 2);
        var api = Assert.Single(body.GetProperty("services").EnumerateArray(), s => s.GetProperty("service").GetString() == "orders-api"
            && s.GetProperty("hosts").EnumerateArray().Select(h => h.GetString()).Contains("drift-api-a"));
        Assert.Contains(api.GetProperty("differences").EnumerateArray(), r => r.GetProperty("key").GetString() == HostSettings.NofileSoft);
    }
}
