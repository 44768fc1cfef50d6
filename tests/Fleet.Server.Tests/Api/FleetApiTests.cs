using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Fleet.Contracts.V1;
using Fleet.Server.Api;
using Fleet.Server.Ingest;
using Fleet.Server.Tests.Hosting;
using Fleet.Server.Tests.Ingest;
using Grpc.Net.Client;
using Fleet.Server.Tests.Infrastructure;
using Fleet.Web.Data;

namespace Fleet.Server.Tests.Api;

/// <summary>The HTTP API on the real server (Kestrel, HTTP/1.1 endpoint), with the fake queries.</summary>
public sealed class FleetApiTests : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly FleetServerFactory _factory = new();
    private HttpClient _http = null!;
    private Uri _grpc = null!;

    public Task InitializeAsync()
    {
        var (http, grpc) = _factory.Start();
        _http = new HttpClient { BaseAddress = http, Timeout = Timeout }.As(FleetRoles.Admin);
        _grpc = grpc;
        _factory.Queries.Latest["web-1"] = TestSnapshots.Valid(9);
        _factory.Queries.Hosts.Add(new HostSummary("web-1", TestSnapshots.MachineId, DateTimeOffset.UtcNow, "0.1.0", "live", "app", 11.7, 904, 6, 4096, long.MaxValue, 17, 28_232));
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _http.Dispose();
        _factory.Dispose();
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task Hosts_ListsTheHostSummaries()
    {
        using var response = await _http.GetAsync(new Uri("/api/hosts", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var hosts = await JsonAsync(response);
        Assert.Equal("web-1", hosts[0].GetProperty("name").GetString());
        Assert.Equal("live", hosts[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task Latest_OfKnownHost_IsTheSnapshotInTheContractsJson()
    {
        using var response = await _http.GetAsync(new Uri("/api/hosts/web-1/latest", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var snapshot = Google.Protobuf.JsonParser.Default.Parse<Snapshot>(await response.Content.ReadAsStringAsync());
        Assert.Equal(9ul, snapshot.Sequence);
        Assert.Equal("app", snapshot.Services[0].Name);
    }

    [Fact]
    public async Task Latest_OfUnknownHost_Is404WithAMessage()
    {
        using var response = await _http.GetAsync(new Uri("/api/hosts/nope/latest", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("nope", (await JsonAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Series_PassesTheParsedQuery_AndReturnsPoints()
    {
        using var response = await _http.GetAsync(new Uri("/api/hosts/web-1/series?metric=open_fds&service=app&from=-2h&step=1m", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var query = Assert.Single(_factory.Queries.SeriesAsked);
        Assert.Equal(("web-1", "open_fds", "app", TimeSpan.FromMinutes(1)), (query.Host, query.Metric, query.Service, query.Step));
        Assert.Equal(TimeSpan.FromHours(2), query.To - query.From);
        var body = await JsonAsync(response);
        Assert.Equal(120, body.GetProperty("points").GetArrayLength());
    }

    [Fact]
    public async Task Series_UnknownMetric_Is400ListingAllowedMetrics()
    {
        using var response = await _http.GetAsync(new Uri("/api/hosts/web-1/series?metric=cpu", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await JsonAsync(response);
        string message = body.GetProperty("errors").GetProperty("metric")[0].GetString()!;
        Assert.Contains(SeriesMetrics.AllowedList, message, StringComparison.Ordinal);
        Assert.Empty(_factory.Queries.SeriesAsked);
    }

    [Fact]
    public async Task Series_BadFrom_Is400NamingFrom()
    {
        using var response = await _http.GetAsync(new Uri("/api/hosts/web-1/series?metric=open_fds&from=last-tuesday", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await JsonAsync(response)).GetProperty("errors").TryGetProperty("from", out _));
    }

    [Fact]
    public async Task Series_OfUnknownHost_Is404()
    {
        using var response = await _http.GetAsync(new Uri("/api/hosts/nope/series?metric=open_fds", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task AgentConfig_PutThenGet_ReturnsTheNewConfig()
    {
        const string Body = """{"interval":"30s","groupingRules":[{"field":"FIELD_COMM","pattern":"^java$","serviceTemplate":"java"}]}""";

        using var put = await _http.PutAsync(new Uri("/api/agent-config", UriKind.Relative), new StringContent(Body, Encoding.UTF8, "application/json"));
        using var get = await _http.GetAsync(new Uri("/api/agent-config", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var config = Google.Protobuf.JsonParser.Default.Parse<AgentConfig>(await get.Content.ReadAsStringAsync());
        Assert.Equal(TimeSpan.FromSeconds(30), config.Interval.ToTimeSpan());
        Assert.Equal("java", config.GroupingRules[0].ServiceTemplate);
    }

    [Fact]
    public async Task AgentConfig_PutNotProtobufJson_Is400()
    {
        using var put = await _http.PutAsync(new Uri("/api/agent-config", UriKind.Relative), new StringContent("""{"intervall":"30s"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Contains("fleet.v1.AgentConfig", (await JsonAsync(put)).GetProperty("title").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentConfig_PutBadIntervalAndPattern_Is400NamingBoth()
    {
        const string Body = """{"interval":"0.1s","groupingRules":[{"field":"FIELD_EXE","pattern":"(unclosed","serviceTemplate":"x"}]}""";

        using var put = await _http.PutAsync(new Uri("/api/agent-config", UriKind.Relative), new StringContent(Body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        string detail = (await JsonAsync(put)).GetProperty("detail").GetString()!;
        Assert.Contains("interval", detail, StringComparison.Ordinal);
        Assert.Contains("grouping_rules[0].pattern", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentConfig_Put_IsPushedToAnOpenAgentStream()
    {
        using var cts = new CancellationTokenSource(Timeout);
        string token = _factory.Store.AddKnownToken();
        using var channel = GrpcChannel.ForAddress(_grpc);
        using var call = new AgentIngest.AgentIngestClient(channel).Connect(cancellationToken: cts.Token);
        await call.RequestStream.WriteAsync(TestSnapshots.HelloMessage(token, "agent-config"), cts.Token);
        Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(ServerMessage.BodyOneofCase.Welcome, call.ResponseStream.Current.BodyCase);

        using var put = await _http.PutAsync(new Uri("/api/agent-config", UriKind.Relative),
            new StringContent("""{"interval":"45s"}""", Encoding.UTF8, "application/json"), cts.Token);

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(TimeSpan.FromSeconds(45), call.ResponseStream.Current.Config.Interval.ToTimeSpan());
        await call.RequestStream.CompleteAsync();
    }

    [Fact]
    public async Task Healthz_IsOk_ReadinessReportsTheDatabaseDown()
    {
        using var live = await _http.GetAsync(new Uri("/healthz", UriKind.Relative));
        using var ready = await _http.GetAsync(new Uri("/healthz/ready", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
    }

    [Fact]
    public async Task HttpEndpoint_DoesNotServeGrpc_AndGrpcEndpointDoesNotServeHttp1()
    {
        using var http1 = new HttpClient { Timeout = Timeout };

        // Kestrel answers an HTTP/1.1 request on an HTTP/2-only endpoint with an error, never with the route.
        try
        {
            using var onGrpcPort = await http1.GetAsync(new Uri(_grpc, "/healthz"));
            Assert.NotEqual(HttpStatusCode.OK, onGrpcPort.StatusCode);
        }
        catch (HttpRequestException)
        {
            // Or it closes the connection.
        }
        using var api = await _http.GetAsync(new Uri("/api/agent-config", UriKind.Relative));
        Assert.Equal(HttpVersion.Version11, api.Version);
    }

    [Fact]
    public async Task AgentConfigPublisher_IsTheOneTheApiChanges()
    {
        var publisher = (AgentConfigPublisher)_factory.Services.GetService(typeof(AgentConfigPublisher))!;

        using var put = await _http.PutAsJsonAsync(new Uri("/api/agent-config", UriKind.Relative), new { interval = "20s" });

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(20), publisher.Current.Interval.ToTimeSpan());
    }
}
