using System.Security.Claims;
using Fleet.Server.Access;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static Fleet.Server.Tests.Access.AccessServer;

namespace Fleet.Server.Tests.Access;

/// <summary>Who the audit log names, and when a Blazor circuit's sign-in stops being valid.</summary>
public sealed class ActorAndCircuitTests(AccessServer server) : IClassFixture<AccessServer>
{
    [Fact]
    public void Actor_InACircuit_IsTheCircuitsUser()
    {
        using var scope = server.Services.CreateScope();
        var state = scope.ServiceProvider.GetRequiredService<AuthenticationStateProvider>();
        ((IHostEnvironmentAuthenticationStateProvider)state).SetAuthenticationState(Task.FromResult(new AuthenticationState(User("carol"))));

        Assert.Equal("carol", scope.ServiceProvider.GetRequiredService<IActorAccessor>().CurrentActor());
    }

    [Fact]
    public void Actor_InARequest_IsTheRequestsUser_NamingTheToken()
    {
        using var scope = server.Services.CreateScope();
        var user = User("dave", new Claim(ApiTokenAuthenticationHandler.TokenNameClaim, "ci-script"));
        scope.ServiceProvider.GetRequiredService<IHttpContextAccessor>().HttpContext = new DefaultHttpContext { User = user };
        try
        {
            Assert.Equal("dave (token ci-script)", scope.ServiceProvider.GetRequiredService<IActorAccessor>().CurrentActor());
        }
        finally
        {
            scope.ServiceProvider.GetRequiredService<IHttpContextAccessor>().HttpContext = null;
        }
    }

    [Fact]
    public void Actor_WithNobodySignedIn_IsAnonymous()
    {
        using var scope = server.Services.CreateScope();

        Assert.Equal(SignedInActor.Unknown, scope.ServiceProvider.GetRequiredService<IActorAccessor>().CurrentActor());
    }

    [Fact]
    public async Task CircuitState_StaysValid_UntilTheRoleChangesOrTheUserIsDisabled()
    {
        var view = await server.CreateUserAsync(FleetRoles.Operator);
        using var scope = server.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<FleetUserEntity>>();
        var factory = scope.ServiceProvider.GetRequiredService<IUserClaimsPrincipalFactory<FleetUserEntity>>();
        var options = scope.ServiceProvider.GetRequiredService<IOptions<IdentityOptions>>().Value;
        var principal = await factory.CreateAsync((await users.FindByIdAsync(view.Id).WaitAsync(Deadline))!).WaitAsync(Deadline);
        var admin = server.Services.GetRequiredService<IUserAdmin>();

        Assert.True(await RevalidatingAuthenticationState.IsCurrentAsync(users, options, principal).WaitAsync(Deadline));
        await admin.SetRoleAsync(view.Id, FleetRoles.Viewer, "test", CancellationToken.None).WaitAsync(Deadline);
        Assert.False(await Fresh(view.Id, principal));
        await admin.SetRoleAsync(view.Id, FleetRoles.Operator, "test", CancellationToken.None).WaitAsync(Deadline);
        Assert.True(await Fresh(view.Id, principal));
        await admin.SetDisabledAsync(view.Id, true, "test", CancellationToken.None).WaitAsync(Deadline);
        Assert.False(await Fresh(view.Id, principal));
    }

    /// <summary>The check in a new scope, as the provider runs it (no cached user).</summary>
    private async Task<bool> Fresh(string userId, ClaimsPrincipal principal)
    {
        using var scope = server.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<FleetUserEntity>>();
        Assert.NotNull(await users.FindByIdAsync(userId).WaitAsync(Deadline));
        return await RevalidatingAuthenticationState.IsCurrentAsync(users, scope.ServiceProvider.GetRequiredService<IOptions<IdentityOptions>>().Value, principal).WaitAsync(Deadline);
    }

    private static ClaimsPrincipal User(string name, params Claim[] extra) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.NameIdentifier, name + "-id"), .. extra], "test", ClaimTypes.Name, ClaimTypes.Role));
}
