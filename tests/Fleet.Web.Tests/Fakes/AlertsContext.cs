using Bunit;
using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace Fleet.Web.Tests.Fakes;

/// <summary>
/// A bUnit context for the alert pages: fake rules, channels and alerts, a named actor signed in as an admin, and MudBlazor's popover and
/// dialog providers rendered first (dialogs and select lists render inside them, as in the layout).
/// </summary>
public sealed class AlertsContext : IAsyncDisposable
{
    public const string ActorName = "alice@example.test";

    private AlertsContext()
    {
        Ctx = new BunitContext();
        Ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        Ctx.Services.AddSingleton<IActorAccessor>(new NamedActor(ActorName));
        Ctx.Services.AddFleetWeb();
        Ctx.SignInAs(FleetRoles.Admin, ActorName);
        Ctx.Services.AddSingleton<IAlertRules>(Rules);
        Ctx.Services.AddSingleton<INotificationChannels>(Channels);
        Ctx.Services.AddSingleton<IAlertData>(Alerts);
        Ctx.Services.AddSingleton<ILiveFeed>(Feed);
        Ctx.Services.AddSingleton<IAlertSilences>(Silences);
        // Signed in as an admin (above) unless a test says otherwise, with the real policy evaluation (SignedIn).
        Auth = new RoleSwitch(Ctx, ActorName);
        Ctx.Render<MudPopoverProvider>();
        Dialogs = Ctx.Render<MudDialogProvider>();
    }

    public BunitContext Ctx { get; }

    /// <summary>Where dialogs (and their fields and buttons) are rendered.</summary>
    public IRenderedComponent<MudDialogProvider> Dialogs { get; }

    public FakeAlertRules Rules { get; } = new(TimeProvider.System);

    public FakeChannels Channels { get; } = new(TimeProvider.System);

    public FakeAlertData Alerts { get; } = new();

    public FakeLiveFeed Feed { get; } = new();

    public Alerts.FakeAlertSilences Silences { get; } = new(TimeProvider.System);

    /// <summary>Who is signed in, with which roles and policies.</summary>
    public RoleSwitch Auth { get; }

    public static AlertsContext Create() => new();

    public async ValueTask DisposeAsync() => await Ctx.DisposeAsync();

    private sealed class NamedActor(string name) : IActorAccessor
    {
        public string CurrentActor() => name;
    }

    /// <summary>Changes the signed-in user's role by the policies it should pass: Administer makes an admin, Operate an operator, else a viewer.</summary>
    public sealed class RoleSwitch(BunitContext ctx, string userName)
    {
        public void SetPolicies(params string[] policies) =>
            ctx.SignInAs(policies.Contains(FleetPolicies.Administer) ? FleetRoles.Admin
                : policies.Contains(FleetPolicies.Operate) ? FleetRoles.Operator
                : FleetRoles.Viewer, userName);
    }
}
