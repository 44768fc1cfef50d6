using Fleet.Web.Data;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace Fleet.Web.Tests.Fakes;

/// <summary>
/// A bUnit context for the account and admin pages: fake users, API tokens and enrollment, a user signed in with the
/// given role (named as the actor too), and MudBlazor's popover and dialog providers rendered first.
/// </summary>
public sealed class AccessContext : IAsyncDisposable
{
    public const string UserName = "alice";

    private AccessContext(string role, AgentEndpointHint? hint)
    {
        Ctx = new BunitContext();
        Ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        Ctx.Services.AddSingleton<IActorAccessor>(new NamedActor(UserName));
        Ctx.Services.AddFleetWeb();
        Ctx.Services.AddSingleton<TimeProvider>(Time);
        Ctx.Services.AddSingleton<IUserAdmin>(Users);
        Ctx.Services.AddSingleton<IApiTokens>(Tokens);
        Ctx.Services.AddSingleton<IEnrollmentAdmin>(Enrollment);
        Ctx.Services.AddSingleton<AntiforgeryStateProvider>(new FakeAntiforgery());
        if (hint is not null)
        {
            Ctx.Services.AddSingleton(hint);
        }
        Ctx.SignInAs(role, UserName);
        Ctx.Render<MudPopoverProvider>();
        Dialogs = Ctx.Render<MudDialogProvider>();
    }

    public BunitContext Ctx { get; }

    public IRenderedComponent<MudDialogProvider> Dialogs { get; }

    public ManualTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    public FakeUserAdmin Users => _users ??= new FakeUserAdmin(Time);

    public FakeApiTokens Tokens => _tokens ??= new FakeApiTokens(Time);

    public FakeEnrollmentAdmin Enrollment => _enrollment ??= new FakeEnrollmentAdmin(Time);

    private FakeUserAdmin? _users;
    private FakeApiTokens? _tokens;
    private FakeEnrollmentAdmin? _enrollment;

    public static AccessContext Create(string role = FleetRoles.Admin, AgentEndpointHint? hint = null) => new(role, hint);

    public async ValueTask DisposeAsync() => await Ctx.DisposeAsync();

    private sealed class NamedActor(string name) : IActorAccessor
    {
        public string CurrentActor() => name;
    }
}
