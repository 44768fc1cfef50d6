using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Fleet.Server.Alerts;
using Fleet.Server.Api;
using Fleet.Server.Dashboard;
using Fleet.Server.Snapshots;
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
using static Fleet.Server.Tests.Dashboard.DashboardSnapshots;
using static Fleet.Server.Tests.Snapshots.SnapshotRig;
using Fleet.Server.Tests.Infrastructure;

namespace Fleet.Server.Tests.Snapshots;

/// <summary>The snapshot HTTP API end to end: a real Kestrel server on 127.0.0.1, the real stores and PostgreSQL (background jobs off).</summary>
public sealed class SnapshotApiTests(IncidentFixture fixture) : IClassFixture<IncidentFixture>, IAsyncLifetime, IDisposable
{
    private const int MaxArchiveBytes = 4 * 1024 * 1024;
    private const int KestrelBodyLimit = 1024 * 1024;

    private WebApplication? _app;
    private HttpClient? _client;

    private HttpClient Client => _client!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        // The server's request limit is below the archive limit: the import endpoint raises it for itself.
        builder.WebHost.UseKestrel(o => o.Limits.MaxRequestBodySize = KestrelBodyLimit).UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Fleet"] = fixture.Harness.Database.ConnectionString,
            ["Fleet:PublicUrl"] = "https://fleet-b.example",
            ["Fleet:Snapshots:MaxArchiveBytes"] = MaxArchiveBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.Services.AddSingleton<TimeProvider>(fixture.Harness.Clock);
        builder.Services.AddFleetStorage(builder.Configuration);
        builder.Services.AddDashboard();
        builder.Services.AddSingleton<IAlertData, PostgresAlertData>();
        builder.Services.AddSnapshots(builder.Configuration);
        builder.Services.RemoveAll<IHostedService>();
        builder.Services.AddTestSignIn();
        _app = builder.Build();
        _app.UseTestSignIn();
        _app.MapSnapshotApi();
        await _app.StartAsync().WaitAsync(TestTimeout);
        string address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _client = new HttpClient { BaseAddress = new Uri(address), Timeout = TestTimeout }.As(FleetRoles.Operator);
    }

    public void Dispose() => _client?.Dispose();

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync().AsTask().WaitAsync(TestTimeout);
        }
    }

    private static string RequestJson(string title, string hosts = "[\"alpha\", \"beta\"]", string? to = null) => $$"""
        {"title": {{JsonSerializer.Serialize(title)}}, "notes": "from the API", "origin": "Compare", "hosts": {{hosts}}, "service": "api",
         "from": "{{From:O}}", "to": "{{to ?? Now.ToString("O")}}"}
        """;

    [Fact]
    public async Task TakeListOpenRenameDownloadImportDelete_ThroughHttp()
    {
        var created = await Client.PostAsync("/api/snapshots", Json(RequestJson("over http"))).WaitAsync(TestTimeout);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        long id = (await ReadAsync(created)).GetProperty("id").GetInt64();

        var list = await ReadAsync(await Client.GetAsync("/api/snapshots").WaitAsync(TestTimeout));
        var opened = await ReadAsync(await Client.GetAsync($"/api/snapshots/{id}").WaitAsync(TestTimeout));
        var renamed = await Client.PatchAsync($"/api/snapshots/{id}", Json("""{"title": "renamed over http"}""")).WaitAsync(TestTimeout);
        var archive = await Client.GetAsync($"/api/snapshots/{id}/archive").WaitAsync(TestTimeout);
        byte[] zip = await archive.Content.ReadAsByteArrayAsync().WaitAsync(TestTimeout);
        var imported = await Client.PostAsync("/api/snapshots/import", Zip(zip)).WaitAsync(TestTimeout);
        var importedInfo = await ReadAsync(imported);
        var deleted = await Client.DeleteAsync($"/api/snapshots/{id}").WaitAsync(TestTimeout);
        var gone = await Client.GetAsync($"/api/snapshots/{id}").WaitAsync(TestTimeout);
        var goneArchive = await Client.GetAsync($"/api/snapshots/{id}/archive").WaitAsync(TestTimeout);
        var goneRename = await Client.PatchAsync($"/api/snapshots/{id}", Json("""{"title": "x"}""")).WaitAsync(TestTimeout);
        var goneDelete = await Client.DeleteAsync($"/api/snapshots/{id}").WaitAsync(TestTimeout);

        Assert.Contains(list.EnumerateArray(), s => s.GetProperty("id").GetInt64() == id && s.GetProperty("origin").GetString() == "Compare");
        Assert.Equal("over http", opened.GetProperty("info").GetProperty("title").GetString());
        var alpha = opened.GetProperty("hosts").EnumerateArray().Single(h => h.GetProperty("detail").GetProperty("name").GetString() == "alpha");
        Assert.Equal(AlphaApiFds(SnapshotCount), alpha.GetProperty("detail").GetProperty("processes").EnumerateArray().Single(p => p.GetProperty("pid").GetInt32() == 100).GetProperty("openFds").GetUInt64());
        Assert.Equal("api", opened.GetProperty("serviceView").GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal("renamed over http", (await ReadAsync(renamed)).GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.OK, archive.StatusCode);
        Assert.Equal("application/zip", archive.Content.Headers.ContentType!.MediaType);
        Assert.Equal("attachment", archive.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Equal($"fleet-snapshot-{id}.zip", archive.Content.Headers.ContentDisposition.FileName?.Trim('"'));
        Assert.Equal(HttpStatusCode.Created, imported.StatusCode);
        Assert.NotEqual(id, importedInfo.GetProperty("id").GetInt64());
        Assert.Equal($"https://fleet-b.example #{id}", importedInfo.GetProperty("importedFrom").GetString());
        Assert.Equal("renamed over http", importedInfo.GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal([HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound],
            [gone.StatusCode, goneArchive.StatusCode, goneRename.StatusCode, goneDelete.StatusCode]);
    }

    [Fact]
    public async Task BadRequests_Get400WithEveryProblemUnderItsField()
    {
        var invalid = await Client.PostAsync("/api/snapshots", Json(RequestJson("", to: From.ToString("O")))).WaitAsync(TestTimeout);
        var unknownHost = await Client.PostAsync("/api/snapshots", Json(RequestJson("x", hosts: "[\"alpha\", \"no-such-host\"]"))).WaitAsync(TestTimeout);
        var malformed = await Client.PostAsync("/api/snapshots", Json("""{"title": "x", "hosts": "alpha"}""")).WaitAsync(TestTimeout);
        var badOrigin = await Client.PostAsync("/api/snapshots", Json(RequestJson("x").Replace("\"Compare\"", "\"Dashboard\"", StringComparison.Ordinal))).WaitAsync(TestTimeout);
        var badRename = await Client.PatchAsync("/api/snapshots/1", Json("""{"title": ""}""")).WaitAsync(TestTimeout);
        var notZip = await Client.PostAsync("/api/snapshots/import", Zip("just text"u8.ToArray())).WaitAsync(TestTimeout);
        var wrongType = await Client.PostAsync("/api/snapshots/import", Json("{}")).WaitAsync(TestTimeout);

        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await ReadAsync(invalid)).GetProperty("errors");
        Assert.Equal("required", errors.GetProperty("title")[0].GetString());
        Assert.Equal("must be after from", errors.GetProperty("to")[0].GetString());
        Assert.Equal(HttpStatusCode.BadRequest, unknownHost.StatusCode);
        Assert.Equal("no host named 'no-such-host' has sent a snapshot", (await ReadAsync(unknownHost)).GetProperty("errors").GetProperty("hosts")[0].GetString());
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.True((await ReadAsync(malformed)).GetProperty("errors").TryGetProperty("hosts", out _));
        Assert.Equal(HttpStatusCode.BadRequest, badOrigin.StatusCode);
        Assert.True((await ReadAsync(badOrigin)).GetProperty("errors").TryGetProperty("origin", out _));
        Assert.Equal(HttpStatusCode.BadRequest, badRename.StatusCode);
        Assert.Equal("required", (await ReadAsync(badRename)).GetProperty("errors").GetProperty("title")[0].GetString());
        Assert.Equal(HttpStatusCode.BadRequest, notZip.StatusCode);
        Assert.StartsWith("not a readable zip file", (await ReadAsync(notZip)).GetProperty("errors").GetProperty("archive")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
    }

    [Fact]
    public async Task Import_LargerThanTheLimit_Gets413_WithOrWithoutAContentLength()
    {
        byte[] big = new byte[MaxArchiveBytes + 1];
        int before = (await ReadAsync(await Client.GetAsync("/api/snapshots").WaitAsync(TestTimeout))).GetArrayLength();

        // As curl does for a large body: the client waits for the server's go-ahead before sending it.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/snapshots/import") { Content = Zip(big) };
        request.Headers.ExpectContinue = true;
        var declared = await Client.SendAsync(request).WaitAsync(TestTimeout);
        var chunked = new StreamContent(new UnknownLengthStream(big));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        var streamed = await Client.PostAsync("/api/snapshots/import", chunked).WaitAsync(TestTimeout);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        Assert.Contains($"at most {MaxArchiveBytes} bytes", (await ReadAsync(streamed)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, (await ReadAsync(await Client.GetAsync("/api/snapshots").WaitAsync(TestTimeout))).GetArrayLength());
    }

    [Fact]
    public async Task Import_LargerThanTheServersRequestLimitButWithinTheArchiveLimit_IsReadWhole()
    {
        byte[] junk = new byte[KestrelBodyLimit * 2];

        var response = await Client.PostAsync("/api/snapshots/import", Zip(junk)).WaitAsync(TestTimeout);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("not a readable zip file", (await ReadAsync(response)).GetProperty("errors").GetProperty("archive")[0].GetString(), StringComparison.Ordinal);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static ByteArrayContent Zip(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        return content;
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        string text = await response.Content.ReadAsStringAsync().WaitAsync(TestTimeout);
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    /// <summary>A body sent chunked: its length is not known ahead.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
