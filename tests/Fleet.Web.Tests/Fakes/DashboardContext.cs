using Bunit;
using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Web.Tests.Fakes;

/// <summary>A bUnit context with the UI's services, a fake data port and a fake live feed.</summary>
public static class DashboardContext
{
    public static BunitContext Create(FakeDashboardData data, FakeLiveFeed feed)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddFleetWeb();
        ctx.Services.AddSingleton<IDashboardData>(data);
        ctx.Services.AddSingleton<ILiveFeed>(feed);
        return ctx;
    }
}
