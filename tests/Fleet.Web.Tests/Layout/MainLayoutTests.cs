using Bunit;
using Fleet.Web.Components.Layout;
using Fleet.Web.Tests.Fakes;

namespace Fleet.Web.Tests.Layout;

public sealed class MainLayoutTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("light")]
    [InlineData("dark")]
    public async Task StoredThemeChoice_IsAppliedOnLoad(string stored)
    {
        await using var ctx = DashboardContext.Create(new FakeDashboardData(), new FakeLiveFeed());
        ctx.JSInterop.Setup<string?>("localStorage.getItem", MainLayout.ThemeStorageKey).SetResult(stored);

        var cut = ctx.Render<MainLayout>();

        cut.WaitForAssertion(() => Assert.Equal(stored, Theme(cut)), Wait);
    }

    [Fact]
    public async Task Toggle_SwitchesTheThemeAndRemembersTheChoice()
    {
        await using var ctx = DashboardContext.Create(new FakeDashboardData(), new FakeLiveFeed());
        ctx.JSInterop.Setup<string?>("localStorage.getItem", MainLayout.ThemeStorageKey).SetResult("dark");
        var cut = ctx.Render<MainLayout>();
        cut.WaitForAssertion(() => Assert.Equal("dark", Theme(cut)), Wait);

        await cut.InvokeAsync(() => cut.Find("[data-testid=theme-toggle]").Click());

        cut.WaitForAssertion(() => Assert.Equal("light", Theme(cut)), Wait);
        var saved = Assert.Single(ctx.JSInterop.Invocations, i => i.Identifier == "localStorage.setItem");
        Assert.Equal([MainLayout.ThemeStorageKey, "light"], saved.Arguments);
    }

    private static string? Theme(IRenderedComponent<MainLayout> cut) => cut.Find("[data-testid=theme-toggle]").GetAttribute("data-theme");
}
