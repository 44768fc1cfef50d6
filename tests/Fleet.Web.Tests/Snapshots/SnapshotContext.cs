using Fleet.Web.Tests.Fakes;
using MudBlazor;

namespace Fleet.Web.Tests.Snapshots;

/// <summary>
/// A bUnit context for the snapshot pages and the pages that export them: fake dashboard data, live feed and
/// snapshots, with MudBlazor's popover and dialog providers rendered first (dialogs render inside them, as in the layout).
/// </summary>
public sealed class SnapshotContext : IAsyncDisposable
{
    private SnapshotContext()
    {
        Ctx = DashboardContext.Create(Data, Feed, snapshots: Snapshots);
        Ctx.Render<MudPopoverProvider>();
        Dialogs = Ctx.Render<MudDialogProvider>();
    }

    public BunitContext Ctx { get; }

    /// <summary>Where dialogs (and their fields and buttons) are rendered.</summary>
    public IRenderedComponent<MudDialogProvider> Dialogs { get; }

    public FakeDashboardData Data { get; } = new();

    public FakeLiveFeed Feed { get; } = new();

    public FakeIncidentSnapshots Snapshots { get; } = new();

    public static SnapshotContext Create() => new();

    public async ValueTask DisposeAsync() => await Ctx.DisposeAsync();
}
