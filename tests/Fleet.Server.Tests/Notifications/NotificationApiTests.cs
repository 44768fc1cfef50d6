using System.Net;
using System.Text;
using System.Text.Json;
using Fleet.Server.Api;
using Fleet.Server.Notifications;
using Fleet.Server.Storage;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Fleet.Server.Tests.Notifications.TestAlerts;
using Fleet.Server.Tests.Infrastructure;

namespace Fleet.Server.Tests.Notifications;

public sealed class NotificationApiTests
{
    private static readonly TimeSpan Timeout = NotificationHarness.Timeout;

    [Fact]
    public async Task Channels_AreCreatedListedUpdatedAndDeletedOverHttp_WithTheAccessorsActorInTheAudit()
    {
        await using var h = await NotificationHarness.StartAsync();
        await using var app = await StartApiAsync(h);
        using var http = new HttpClient { BaseAddress = app.Address, Timeout = Timeout }.As(FleetRoles.Admin, "api tester");

        var create = await http.PostAsync("api/notification-channels", Body("""{"name":"ops","kind":"alertmanager","url":"https://hooks.example.test/ops","minSeverity":"critical","enabled":true}"""));
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var created = JsonDocument.Parse(await create.Content.ReadAsStringAsync()).RootElement;
        long id = created.GetProperty("id").GetInt64();
        Assert.Equal(("alertmanager", "critical", "api tester"),
            (created.GetProperty("draft").GetProperty("kind").GetString(), created.GetProperty("draft").GetProperty("minSeverity").GetString(), created.GetProperty("updatedBy").GetString()));

        var update = await http.PutAsync($"api/notification-channels/{id}", Body("""{"name":"ops","kind":"webhook","url":"https://hooks.example.test/v2","minSeverity":0,"enabled":false}"""));
        Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        var listed = Assert.Single(await h.Channels.ListAsync(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(new ChannelDraft("ops", ChannelKind.Webhook, "https://hooks.example.test/v2", AlertSeverity.Warning, false), listed.Draft);
        var list = JsonDocument.Parse(await http.GetStringAsync("api/notification-channels")).RootElement;
        Assert.Equal("https://hooks.example.test/v2", Assert.Single(list.EnumerateArray()).GetProperty("draft").GetProperty("url").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"api/notification-channels/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.DeleteAsync($"api/notification-channels/{id}")).StatusCode);
        await using (var db = await h.Services.GetRequiredService<IDbContextFactory<FleetDbContext>>().CreateDbContextAsync())
        {
            var audit = await db.AuditLog.AsNoTracking().OrderBy(a => a.Id).Select(a => new { a.Action, a.Actor }).ToListAsync().WaitAsync(Timeout);
            Assert.Equal([("created", "api tester"), ("updated", "api tester"), ("deleted", "api tester")], audit.Select(a => (a.Action, a.Actor)));
        }
        Assert.Equal(HttpStatusCode.NotFound, (await http.PutAsync($"api/notification-channels/{id}", Body("""{"name":"x","kind":"webhook","url":"https://a.test/","minSeverity":"warning","enabled":true}"""))).StatusCode);
    }

    [Fact]
    public async Task InvalidChannel_Is400_NamingEachField()
    {
        await using var h = await NotificationHarness.StartAsync();
        await using var app = await StartApiAsync(h);
        using var http = new HttpClient { BaseAddress = app.Address, Timeout = Timeout }.As(FleetRoles.Admin, "api tester");

        var invalid = await http.PostAsync("api/notification-channels", Body("""{"name":"","kind":"webhook","url":"ftp://x.test/","minSeverity":"warning","enabled":true}"""));
        var notJson = await http.PostAsync("api/notification-channels", Body("{name:"));

        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var problem = JsonDocument.Parse(await invalid.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["name", "url"], problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        var notJsonProblem = JsonDocument.Parse(await notJson.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Invalid notification channel", notJsonProblem.GetProperty("title").GetString());
        Assert.Equal(["body"], notJsonProblem.GetProperty("errors").EnumerateObject().Select(p => p.Name));
        Assert.Empty(await h.Channels.ListAsync(CancellationToken.None).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Deliveries_AreListedNewestFirst_OfOneChannelOrAll()
    {
        await using var h = await NotificationHarness.StartAsync();
        var a = await h.AddChannelAsync("a", ChannelKind.Webhook, new Uri("https://a.test/"));
        var b = await h.AddChannelAsync("b", ChannelKind.Alertmanager, new Uri("https://b.test/"));
        await h.EnqueueAsync(Firing(Alert(1)), Firing(Alert(2)));
        await using var app = await StartApiAsync(h);
        using var http = new HttpClient { BaseAddress = app.Address, Timeout = Timeout }.As(FleetRoles.Admin, "api tester");

        var all = JsonDocument.Parse(await http.GetStringAsync("api/notification-deliveries")).RootElement.EnumerateArray().ToList();
        var ofB = JsonDocument.Parse(await http.GetStringAsync($"api/notification-deliveries?channelId={b.Id}&limit=1")).RootElement.EnumerateArray().ToList();
        var badLimit = await http.GetAsync("api/notification-deliveries?limit=0");

        Assert.Equal(4, all.Count);
        Assert.Equal(all.Select(d => d.GetProperty("id").GetInt64()).OrderDescending(), all.Select(d => d.GetProperty("id").GetInt64()));
        Assert.Equal("pending", all[0].GetProperty("status").GetString());
        var latestOfB = Assert.Single(ofB);
        Assert.Equal((b.Id, 2L), (latestOfB.GetProperty("channelId").GetInt64(), latestOfB.GetProperty("alertId").GetInt64()));
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
        Assert.NotEqual(a.Id, b.Id);
    }

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<ApiApp> StartApiAsync(NotificationHarness h)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton(h.Channels);
        builder.Services.AddTestSignIn();
        var app = builder.Build();
        app.UseTestSignIn();
        app.MapNotificationApi();
        await app.StartAsync().WaitAsync(Timeout);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ApiApp(app, new Uri(address.TrimEnd('/') + "/"));
    }

    private sealed record ApiApp(WebApplication App, Uri Address) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await App.StopAsync().WaitAsync(Timeout);
            await App.DisposeAsync();
        }
    }
}
