using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;
using Fleet.Browser.Tests.Browsing;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Fleet.Browser.Tests;

/// <summary>
/// Incident snapshots in a real browser against the real server, its database and its agent watching this machine:
/// exported from the host page, opened at their own link as a read-only host page whose figures stay frozen while the
/// live page moves on, listed on /snapshots, downloaded as a zip archive holding snapshot.json, and imported back.
/// </summary>
public sealed class SnapshotTests(DashboardFixture fixture, ITestOutputHelper output) : IClassFixture<DashboardFixture>
{
    private const int TestTimeout = 180_000;

    static SnapshotTests() => SetDefaultExpectTimeout(ObservedPage.Timeout);

    private string Host => fixture.HostName;

    private string HostPath => $"/hosts/{Uri.EscapeDataString(Host)}";

    [Fact(Timeout = TestTimeout)]
    public Task Snapshot_ExportedFromTheHostPage_OpensAtItsLink_ReadOnly_DownloadsAsAnArchive_AndImportsBack() => WithLogsAsync(async () =>
    {
        string title = $"browser incident {Guid.NewGuid():N}"[..25];
        await using var page = await fixture.OpenPageAsync();
        // This machine's first snapshot is stored (a fresh server may not have it yet), then its page.
        await page.GoAsync("/");
        await Expect(page.Page.Locator($"[data-testid=host-row][data-host='{Host}']")).ToBeVisibleAsync();
        await page.GoAsync($"{HostPath}?range=15m");
        await Expect(page.Page.GetByTestId("processes-table")).ToBeVisibleAsync();
        string fileMax = await KvAsync(page, "fs.file-max");
        string nrOpen = await KvAsync(page, "fs.nr_open");

        // Export: the dialog names this host and offers a title; ours replaces it.
        await page.Page.GetByTestId("export-snapshot").ClickAsync();
        await Expect(page.Page.GetByTestId("snapshot-dialog")).ToBeVisibleAsync();
        await Expect(page.Page.GetByTestId("snapshot-hosts")).ToHaveTextAsync(Host);
        await Expect(page.Page.GetByTestId("snapshot-title")).ToHaveValueAsync(new Regex($"^Incident on {Regex.Escape(Host)}, "));
        await page.Page.GetByTestId("snapshot-title").FillAsync(title);
        await page.Page.GetByTestId("snapshot-notes").FillAsync("made by the browser test");
        await page.ScreenshotAsync("snapshot-dialog");
        await page.Page.GetByTestId("snapshot-create").ClickAsync();

        // The new snapshot's own page.
        await Expect(page.Page).ToHaveURLAsync(new Regex(@"/snapshots/\d+$"));
        long id = long.Parse(Regex.Match(page.Page.Url, @"/snapshots/(\d+)$").Groups[1].Value, CultureInfo.InvariantCulture);
        await Expect(page.Page.GetByTestId("snapshot-title")).ToHaveTextAsync(title);
        await Expect(page.Page.GetByTestId("snapshot-notes")).ToHaveTextAsync("made by the browser test");
        await page.ScreenshotAsync("snapshot-summary");

        // Its host link opens the host page read-only: banner, the snapshot's window, the same kernel figures as live.
        await page.Page.Locator($"[data-testid=snapshot-host-link][data-host='{Host}']").ClickAsync();
        string frozenPath = $"/snapshots/{id}/hosts/{Uri.EscapeDataString(Host)}";
        await Expect(page.Page).ToHaveURLAsync(new Regex($"{Regex.Escape(frozenPath)}$"));
        var banner = page.Page.GetByTestId("snapshot-banner");
        await Expect(banner).ToContainTextAsync($"Snapshot '{title}', read-only");
        await Expect(page.Page.GetByTestId("host-name")).ToHaveTextAsync(Host);
        await Expect(page.Page.Locator("[data-testid=process-row]").First).ToBeVisibleAsync();
        Assert.Equal(fileMax, await KvAsync(page, "fs.file-max"));
        Assert.Equal(nrOpen, await KvAsync(page, "fs.nr_open"));
        await Expect(page.Page.GetByTestId("export-snapshot")).ToHaveCountAsync(0);
        await Expect(page.Page.GetByTestId("range-15m")).ToHaveCountAsync(0);
        long frozen = await NumberAsync(page, "[data-testid=last-snapshot]", "data-sequence");
        await page.ScreenshotAsync("snapshot-host");

        // The live page moves on past the snapshot; the snapshot's page, opened again, does not.
        await page.GoAsync(HostPath);
        await page.Page.WaitForFunctionAsync(
            "([floor]) => { const e = document.querySelector('[data-testid=last-snapshot]'); return e !== null && Number(e.getAttribute('data-sequence')) > floor; }",
            new object[] { frozen + 1 }, new PageWaitForFunctionOptions { Timeout = ObservedPage.Timeout, PollingInterval = 100 });
        await page.GoAsync(frozenPath);
        await Expect(page.Page.GetByTestId("snapshot-banner")).ToBeVisibleAsync();
        await Expect(page.Page.GetByTestId("last-snapshot")).ToHaveAttributeAsync("data-sequence", frozen.ToString(CultureInfo.InvariantCulture));

        // Listed on /snapshots (through the nav), with its archive: a zip holding snapshot.json.
        await page.Page.GetByTestId("nav-snapshots").ClickAsync();
        await Expect(page.Page).ToHaveURLAsync(new Regex("/snapshots$"));
        var row = page.Page.Locator($"[data-testid=snapshot-row][data-snapshot-id='{id}']");
        await Expect(row).ToBeVisibleAsync();
        await Expect(row).ToHaveAttributeAsync("data-title", title);
        await page.ScreenshotAsync("snapshots");
        var download = await page.Page.RunAndWaitForDownloadAsync(() => row.GetByTestId("snapshot-download").ClickAsync(),
            new PageRunAndWaitForDownloadOptions { Timeout = ObservedPage.Timeout });
        string archive = Path.Combine(Path.GetTempPath(), $"fleet-snapshot-{Guid.NewGuid():N}.zip");
        try
        {
            await download.SaveAsAsync(archive).WaitAsync(TimeSpan.FromMilliseconds(ObservedPage.Timeout));
            Assert.Null(await download.FailureAsync().WaitAsync(TimeSpan.FromMilliseconds(ObservedPage.Timeout)));
            using (var zip = ZipFile.OpenRead(archive))
            {
                var json = zip.GetEntry("snapshot.json");
                Assert.NotNull(json);
                Assert.True(json.Length > 0, "snapshot.json is empty");
                output.WriteLine($"archive {download.SuggestedFilename}: {string.Join(", ", zip.Entries.Select(e => $"{e.FullName} ({e.Length} B)"))}");
            }

            // The archive imported back through the page's file input: a second row of that title, marked as imported.
            await page.Page.GetByTestId("snapshot-import-file").SetInputFilesAsync(archive);
            await Expect(page.Page.GetByTestId("import-done")).ToContainTextAsync(title);
            var rows = page.Page.Locator($"[data-testid=snapshot-row][data-title='{title}']");
            await Expect(rows).ToHaveCountAsync(2);
            var imported = page.Page.Locator($"[data-testid=snapshot-row][data-title='{title}']:not([data-snapshot-id='{id}'])");
            await Expect(imported).ToHaveAttributeAsync("data-imported-from", new Regex(@"\S"));
            await Expect(row).Not.ToHaveAttributeAsync("data-imported-from", new Regex(".*"));
            await page.ScreenshotAsync("snapshots-imported");
        }
        finally
        {
            File.Delete(archive);
        }
        page.AssertNoErrors();
    });

    [Fact(Timeout = TestTimeout)]
    public Task UnknownSnapshot_SaysSo() => WithLogsAsync(async () =>
    {
        await using var page = await fixture.OpenPageAsync();
        await page.GoAsync("/snapshots/987654321");

        await Expect(page.Page.GetByTestId("not-found")).ToContainTextAsync("no snapshot 987654321");
        page.AssertNoErrors();
    });

    /// <summary>The exact value of one row of the host page's limits and kernel settings.</summary>
    private static async Task<string> KvAsync(ObservedPage page, string key)
    {
        var value = page.Page.Locator($"[data-testid=kernel-settings] [data-testid=kv-row][data-key='{key}'] td[data-value]");
        await Expect(value).ToHaveAttributeAsync("data-value", new Regex(@"^\d+$"));
        return await value.GetAttributeAsync("data-value") ?? throw new InvalidOperationException($"{key} has no value");
    }

    private static async Task<long> NumberAsync(ObservedPage page, string selector, string attribute)
    {
        var element = page.Page.Locator(selector).First;
        await Expect(element).ToHaveAttributeAsync(attribute, new Regex(@"^-?\d+$"));
        return long.Parse((await element.GetAttributeAsync(attribute))!, CultureInfo.InvariantCulture);
    }

    private async Task WithLogsAsync(Func<Task> test)
    {
        int before = fixture.PageServerErrors().Count;
        try
        {
            await test();
            var errors = fixture.PageServerErrors().Skip(before).ToList();
            Assert.True(errors.Count == 0, $"the server logged errors while serving the pages:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}");
        }
        catch
        {
            fixture.WriteLogsTo(output);
            throw;
        }
    }
}
