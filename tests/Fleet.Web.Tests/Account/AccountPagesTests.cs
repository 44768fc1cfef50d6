using Fleet.Web.Components.Account;
using Fleet.Web.Data;
using Fleet.Web.Tests.Fakes;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Web.Tests.Account;

public sealed class AccountPagesTests
{
    private static BunitContext Context(string uri, string? externalProvider = null)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddFleetWeb();
        ctx.Services.AddSingleton<ISignInChoices>(new FakeSignInChoices(externalProvider));
        ctx.Services.AddSingleton<AntiforgeryStateProvider>(new FakeAntiforgery());
        ctx.SignOut();
        ctx.Services.GetRequiredService<NavigationManager>().NavigateTo(uri);
        return ctx;
    }

    [Fact]
    public async Task SignIn_PostsNamePasswordReturnUrlAndAntiforgeryToTheSignInEndpoint()
    {
        await using var ctx = Context("/signin?returnUrl=%2Fhosts%2Fweb-1%3Frange%3D1h");

        var cut = ctx.Render<SignInPage>();

        var form = cut.Find("[data-testid=signin-form]");
        Assert.Equal("post", form.GetAttribute("method"));
        Assert.Equal(AccountRoutes.SignInPost, form.GetAttribute("action"));
        Assert.Equal("/hosts/web-1?range=1h", form.QuerySelector("input[name=returnUrl]")!.GetAttribute("value"));
        Assert.Equal("password", form.QuerySelector("input[name=password]")!.GetAttribute("type"));
        Assert.NotNull(form.QuerySelector("input[name=userName]"));
        Assert.Equal(FakeAntiforgery.Token, form.QuerySelector($"input[name={FakeAntiforgery.FieldName}]")!.GetAttribute("value"));
        Assert.Equal("submit", cut.Find("[data-testid=signin-submit]").GetAttribute("type"));
    }

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/")]
    [InlineData("/\\evil.example")]
    [InlineData("/signin?returnUrl=%2F")]
    public async Task SignIn_ReturnUrlOffThisSiteOrBackToSignIn_GoesToTheOverview(string returnUrl)
    {
        await using var ctx = Context("/signin?returnUrl=" + Uri.EscapeDataString(returnUrl));

        var cut = ctx.Render<SignInPage>();

        Assert.Equal("/", cut.Find("input[name=returnUrl]").GetAttribute("value"));
    }

    [Theory]
    [InlineData("invalid", "Wrong user name or password")]
    [InlineData("locked", "Too many failed attempts: try again in a few minutes")]
    [InlineData("throttled", "Too many sign-in attempts from here: wait a minute")]
    [InlineData("disabled", "This account is disabled")]
    [InlineData("The sign-in store is unreachable", "The sign-in store is unreachable")]
    public async Task SignIn_RefusedAttempt_SaysWhyInWords(string error, string expected)
    {
        await using var ctx = Context("/signin?error=" + Uri.EscapeDataString(error));

        var cut = ctx.Render<SignInPage>();

        Assert.Contains(expected, cut.Find("[data-testid=signin-error]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_WithoutError_ShowsNoError()
    {
        await using var ctx = Context("/signin");

        var cut = ctx.Render<SignInPage>();

        Assert.Empty(cut.FindAll("[data-testid=signin-error]"));
    }

    [Fact]
    public async Task SignIn_WithOpenIdConnect_LinksToTheExternalSignInWithTheReturnUrl()
    {
        await using var ctx = Context("/signin?returnUrl=%2Falerts", externalProvider: "Corp SSO");

        var cut = ctx.Render<SignInPage>();

        var link = cut.Find("[data-testid=signin-external]");
        Assert.Contains("Sign in with Corp SSO", link.TextContent, StringComparison.Ordinal);
        Assert.Equal($"{AccountRoutes.ExternalSignIn}?returnUrl=%2Falerts", link.GetAttribute("href"));
    }

    [Fact]
    public async Task SignIn_WithoutOpenIdConnect_HasNoExternalLink()
    {
        await using var ctx = Context("/signin");

        var cut = ctx.Render<SignInPage>();

        Assert.Empty(cut.FindAll("[data-testid=signin-external]"));
    }

    [Fact]
    public async Task Setup_PostsTheTokenNameAndBothPasswordsToTheSetupEndpoint()
    {
        await using var ctx = Context("/setup/abc123");

        var cut = ctx.Render<SetupPage>(p => p.Add(s => s.Token, "abc123"));

        var form = cut.Find("[data-testid=setup-form]");
        Assert.Equal(AccountRoutes.SetupPost, form.GetAttribute("action"));
        Assert.Equal("post", form.GetAttribute("method"));
        Assert.Equal("abc123", form.QuerySelector("input[name=token]")!.GetAttribute("value"));
        Assert.NotNull(form.QuerySelector("input[name=userName]"));
        Assert.Equal("password", form.QuerySelector("input[name=password]")!.GetAttribute("type"));
        Assert.Equal("password", form.QuerySelector("input[name=confirmPassword]")!.GetAttribute("type"));
        Assert.Equal(FakeAntiforgery.Token, form.QuerySelector($"input[name={FakeAntiforgery.FieldName}]")!.GetAttribute("value"));
    }

    [Fact]
    public async Task Setup_RefusedAttempt_ShowsTheServersMessage()
    {
        await using var ctx = Context("/setup/abc123?error=" + Uri.EscapeDataString("password: Passwords must be at least 12 characters."));

        var cut = ctx.Render<SetupPage>(p => p.Add(s => s.Token, "abc123"));

        Assert.Contains("Passwords must be at least 12 characters.", cut.Find("[data-testid=setup-error]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AccessDenied_SignedIn_NamesTheRoleTheUserAndThePage()
    {
        await using var ctx = Context("/access-denied?ReturnUrl=%2Fadmin%2Fusers");
        ctx.SignInAs(FleetRoles.Viewer, "victor");

        var cut = ctx.Render<AccessDeniedPage>();

        cut.WaitForAssertion(() => Assert.Contains("Your role (viewer) may not see this page", cut.Find("[data-testid=access-denied]").TextContent, StringComparison.Ordinal));
        Assert.Equal("victor", cut.Find("[data-testid=access-denied-user]").TextContent);
        Assert.Equal("/admin/users", cut.Find("[data-testid=access-denied-path]").TextContent);
    }

    [Fact]
    public async Task AccessDenied_NotSignedIn_OffersSignIn()
    {
        await using var ctx = Context("/access-denied?ReturnUrl=%2Fadmin%2Fusers");

        var cut = ctx.Render<AccessDeniedPage>();

        cut.WaitForAssertion(() => Assert.Equal("/signin?returnUrl=%2Fadmin%2Fusers", cut.Find("[data-testid=access-denied-signin]").GetAttribute("href")));
        Assert.Empty(cut.FindAll("[data-testid=access-denied]"));
    }
}
