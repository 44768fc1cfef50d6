using Bunit;
using Fleet.Web.Data;
using Fleet.Web.Tests.Snapshots;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Web.Tests.Fakes;

/// <summary>A bUnit context with the UI's services, fake data ports (dashboard, live feed, projections, alerts, snapshots) and an admin signed in.</summary>
public static class DashboardContext
{
    public static BunitContext Create(FakeDashboardData data, FakeLiveFeed feed, FakeProjectionData? projections = null, FakeAlertData? alerts = null, FakeIncidentSnapshots? snapshots = null)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddFleetWeb();
        // The pages are for signed-in users; an admin sees every button (tests of hiding sign in with another role).
        ctx.SignInAs(FleetRoles.Admin, "alice");
        ctx.Services.AddSingleton<IDashboardData>(data);
        ctx.Services.AddSingleton<ILiveFeed>(feed);
        ctx.Services.AddSingleton<IProjectionData>(projections ?? new FakeProjectionData());
        ctx.Services.AddSingleton<IAlertData>(alerts ?? new FakeAlertData());
        ctx.Services.AddSingleton<IIncidentSnapshots>(snapshots ?? new FakeIncidentSnapshots());
        return ctx;
    }
}
