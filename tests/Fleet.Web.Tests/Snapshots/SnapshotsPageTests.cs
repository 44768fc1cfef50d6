using Fleet.Web.Components.Snapshots;
using Microsoft.AspNetCore.Components.Forms;

namespace Fleet.Web.Tests.Snapshots;

public sealed class SnapshotsPageTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static SnapshotContext WithTwo(out long first, out long second)
    {
        var t = SnapshotContext.Create();
        first = t.Snapshots.Add(SnapshotSamples.Snapshot(3, "api leak", [SnapshotSamples.Host("web-1", 700)])).Info.Id;
        second = t.Snapshots.Add(SnapshotSamples.Snapshot(4, "port exhaustion", [SnapshotSamples.Host("web-1", 10), SnapshotSamples.Host("web-2", 20)])).Info.Id;
        return t;
    }

    private static IReadOnlyList<string?> Titles(IRenderedComponent<SnapshotsPage> cut) =>
        [.. cut.FindAll("[data-testid=snapshot-row]").Select(r => r.GetAttribute("data-title")).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task List_ShowsEachSnapshotWithItsLinkAndArchiveDownload()
    {
        await using var t = WithTwo(out var first, out var second);

        var cut = t.Ctx.Render<SnapshotsPage>();

        Assert.Equal(["api leak", "port exhaustion"], Titles(cut));
        var row = cut.Find($"[data-testid=snapshot-row][data-snapshot-id='{second}']");
        Assert.Equal(SnapshotTexts.Href(second), row.QuerySelector("[data-testid=snapshot-link]")!.GetAttribute("href"));
        var download = row.QuerySelector("[data-testid=snapshot-download]")!;
        Assert.Equal(SnapshotTexts.ArchiveHref(second), download.GetAttribute("href"));
        Assert.True(download.HasAttribute("download"));
        Assert.Contains("web-1, web-2", row.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rename_StoresTheNewTitle_AndTheRowShowsIt()
    {
        await using var t = WithTwo(out var first, out _);
        var cut = t.Ctx.Render<SnapshotsPage>();

        cut.Find($"[data-testid=snapshot-row][data-snapshot-id='{first}'] [data-testid=snapshot-rename]").Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=rename-dialog]"), Wait);
        Assert.Equal("api leak", t.Dialogs.Find("input[data-testid=rename-title]").GetAttribute("value"));
        t.Dialogs.Find("input[data-testid=rename-title]").Change("  api leak, OPS-12  ");
        t.Dialogs.Find("[data-testid=rename-save]").Click();

        cut.WaitForAssertion(() => Assert.Equal(["api leak, OPS-12", "port exhaustion"], Titles(cut)), Wait);
        Assert.Equal([(first, "api leak, OPS-12")], t.Snapshots.Renamed);
    }

    [Fact]
    public async Task Rename_ToAnEmptyTitle_IsRefusedInTheDialog_AndNothingIsStored()
    {
        await using var t = WithTwo(out var first, out _);
        var cut = t.Ctx.Render<SnapshotsPage>();

        cut.Find($"[data-testid=snapshot-row][data-snapshot-id='{first}'] [data-testid=snapshot-rename]").Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=rename-dialog]"), Wait);
        t.Dialogs.Find("input[data-testid=rename-title]").Change("");
        t.Dialogs.Find("[data-testid=rename-save]").Click();

        t.Dialogs.WaitForAssertion(() => Assert.Equal(["title: required"], t.Dialogs.FindAll("[data-testid=rename-error]").Select(e => e.TextContent.Trim())), Wait);
        Assert.Empty(t.Snapshots.Renamed);
        Assert.Equal(["api leak", "port exhaustion"], Titles(cut));
    }

    [Fact]
    public async Task Delete_AfterConfirming_RemovesTheRow()
    {
        await using var t = WithTwo(out var first, out var second);
        var cut = t.Ctx.Render<SnapshotsPage>();

        cut.Find($"[data-testid=snapshot-row][data-snapshot-id='{second}'] [data-testid=snapshot-delete]").Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=confirm-delete]"), Wait);
        t.Dialogs.Find("[data-testid=confirm-delete]").Click();

        cut.WaitForAssertion(() => Assert.Equal(["api leak"], Titles(cut)), Wait);
        Assert.Equal([second], t.Snapshots.Deleted);
    }

    [Fact]
    public async Task Delete_Cancelled_KeepsTheSnapshot()
    {
        await using var t = WithTwo(out _, out var second);
        var cut = t.Ctx.Render<SnapshotsPage>();

        cut.Find($"[data-testid=snapshot-row][data-snapshot-id='{second}'] [data-testid=snapshot-delete]").Click();
        t.Dialogs.WaitForAssertion(() => t.Dialogs.Find("[data-testid=confirm-cancel]"), Wait);
        t.Dialogs.Find("[data-testid=confirm-cancel]").Click();

        t.Dialogs.WaitForAssertion(() => Assert.Empty(t.Dialogs.FindAll("[data-testid=confirm-dialog]")), Wait);
        Assert.Empty(t.Snapshots.Deleted);
        Assert.Equal(2, Titles(cut).Count);
    }

    [Fact]
    public async Task Import_OfARefusedArchive_ShowsTheStoresErrors_AndAddsNoRow()
    {
        await using var t = WithTwo(out _, out _);
        t.Snapshots.ImportRefusal = ["archive: snapshot.json is missing", "archive: format version 9 is not supported"];
        var cut = t.Ctx.Render<SnapshotsPage>();
        byte[] bytes = [0x50, 0x4b, 0x03, 0x04, 1, 2, 3];

        cut.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromBinary(bytes, "incident.zip"));

        cut.WaitForAssertion(() => Assert.Equal(t.Snapshots.ImportRefusal, cut.FindAll("[data-testid=import-error]").Select(e => e.TextContent.Trim())), Wait);
        Assert.Contains("incident.zip", cut.Find("[data-testid=import-errors]").TextContent, StringComparison.Ordinal);
        Assert.Equal(bytes, Assert.Single(t.Snapshots.Imported));
        Assert.Equal(2, Titles(cut).Count);
    }

    [Fact]
    public async Task Import_OfAnEmptyFile_IsRefusedBeforeTheStore()
    {
        await using var t = WithTwo(out _, out _);
        var cut = t.Ctx.Render<SnapshotsPage>();

        cut.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromBinary([], "empty.zip"));

        cut.WaitForAssertion(() => Assert.Equal(["archive: the file is empty"], cut.FindAll("[data-testid=import-error]").Select(e => e.TextContent.Trim())), Wait);
        Assert.Empty(t.Snapshots.Imported);
    }

    [Fact]
    public async Task Import_OfAGoodArchive_AddsItsRow()
    {
        await using var t = WithTwo(out _, out _);
        var archived = SnapshotSamples.Snapshot(1, "from staging", [SnapshotSamples.Host("stage-1", 12)]);
        t.Snapshots.ImportResult = archived with { Info = archived.Info with { ImportedFrom = "fleet.staging.example" } };
        var cut = t.Ctx.Render<SnapshotsPage>();

        cut.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromBinary([0x50, 0x4b, 0x03, 0x04], "staging.zip"));

        cut.WaitForAssertion(() => Assert.Equal(["api leak", "from staging", "port exhaustion"], Titles(cut)), Wait);
        Assert.Contains("fleet.staging.example", cut.Find("[data-testid=snapshot-row][data-title='from staging']").TextContent, StringComparison.Ordinal);
        Assert.Empty(cut.FindAll("[data-testid=import-error]"));
    }

    [Fact]
    public async Task NoSnapshot_SaysHowToMakeOne()
    {
        await using var t = SnapshotContext.Create();

        var cut = t.Ctx.Render<SnapshotsPage>();

        Assert.Contains("Export snapshot", cut.Find("[data-testid=no-snapshots]").TextContent, StringComparison.Ordinal);
    }
}
