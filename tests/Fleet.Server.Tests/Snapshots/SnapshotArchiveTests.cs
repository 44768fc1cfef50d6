using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fleet.Server.Snapshots;
using Fleet.Server.Tests.Storage;
using Fleet.Web.Data;
using Microsoft.EntityFrameworkCore;
using static Fleet.Server.Tests.Dashboard.DashboardSnapshots;
using static Fleet.Server.Tests.Snapshots.SnapshotRig;

namespace Fleet.Server.Tests.Snapshots;

/// <summary>The archive: export then import gives the same data; the CSV; every archive import refuses, refused with what is wrong.</summary>
public sealed class SnapshotArchiveTests(IncidentFixture fixture) : IClassFixture<IncidentFixture>
{
    private StorageHarness Harness => fixture.Harness;

    private static readonly JsonSerializerOptions Compare = SnapshotJson.Options;

    [Fact]
    public async Task ExportThenImport_GivesTheSameViewsAndRawRows_AsANewSnapshotNamingTheServerAndIdItCameFrom()
    {
        var clock = new ManualClock(Now.AddDays(1));
        var store = Store(Harness, clock: clock);
        var original = await store.CreateAsync(Request("export me"), "tester", CancellationToken.None).WaitAsync(TestTimeout);

        var archive = await ExportAsync(store, original.Id);
        clock.Now = Now.AddDays(2);
        var imported = await store.ImportAsync(new MemoryStream(archive), "tester", CancellationToken.None).WaitAsync(TestTimeout);
        var a = await store.OpenAsync(original.Id, CancellationToken.None).WaitAsync(TestTimeout);
        var b = await store.OpenAsync(imported.Id, CancellationToken.None).WaitAsync(TestTimeout);
        var rawA = (await store.DocumentAsync(original.Id, CancellationToken.None).WaitAsync(TestTimeout))!.Raw;
        var rawB = (await store.DocumentAsync(imported.Id, CancellationToken.None).WaitAsync(TestTimeout))!.Raw;
        var list = await store.ListAsync(CancellationToken.None).WaitAsync(TestTimeout);

        Assert.NotEqual(original.Id, imported.Id);
        Assert.Equal($"{ServerName} #{original.Id}", imported.ImportedFrom);
        Assert.Null(original.ImportedFrom);
        Assert.Equal(
            (original.Title, original.Notes, original.Origin, original.Service, original.From, original.To),
            (imported.Title, imported.Notes, imported.Origin, imported.Service, imported.From, imported.To));
        Assert.Equal(original.Hosts, imported.Hosts);
        Assert.Equal(Now.AddDays(2), imported.CreatedAt);
        Assert.Equal(JsonSerializer.Serialize(a!.Hosts, Compare), JsonSerializer.Serialize(b!.Hosts, Compare));
        Assert.Equal(JsonSerializer.Serialize(a.ServiceView, Compare), JsonSerializer.Serialize(b.ServiceView, Compare));
        Assert.Equal(JsonSerializer.Serialize(a.Alerts, Compare), JsonSerializer.Serialize(b.Alerts, Compare));
        Assert.Equal(JsonSerializer.Serialize(rawA, Compare), JsonSerializer.Serialize(rawB, Compare));
        Assert.Equal(await RawRowsAsync(Harness), rawB.Sum(t => t.Rows.Count));
        Assert.NotEmpty(b.Alerts);
        // Newest first.
        Assert.Equal(imported.Id, list[0].Id);
        Assert.Contains(list, s => s.Id == original.Id);

        await using var db = await Contexts(Harness).CreateDbContextAsync().WaitAsync(TestTimeout);
        var audit = await db.AuditLog.AsNoTracking().Where(e => e.Entity == PostgresIncidentSnapshots.AuditEntity && (e.EntityId == original.Id.ToString() || e.EntityId == imported.Id.ToString()))
            .OrderBy(e => e.Id).Select(e => e.Action).ToListAsync().WaitAsync(TestTimeout);
        Assert.Equal(["created", "imported"], audit);
    }

    [Fact]
    public async Task Archive_HoldsSnapshotJsonAndCsvOfEveryStoredSample_NamesInPlaceOfIds_FormulasNeutralised_CommasAndQuotesQuoted()
    {
        var store = Store(Harness);
        var info = await store.CreateAsync(Request("csv"), "tester", CancellationToken.None).WaitAsync(TestTimeout);
        var snapshot = await store.OpenAsync(info.Id, CancellationToken.None).WaitAsync(TestTimeout);

        using var zip = new ZipArchive(new MemoryStream(await ExportAsync(store, info.Id)), ZipArchiveMode.Read);
        var hostCsv = Lines(zip, "raw/host_samples.csv");
        var processCsv = Lines(zip, "raw/process_samples.csv");
        var serviceCsv = Lines(zip, "raw/service_samples.csv");
        var closeWaitCsv = Lines(zip, "raw/close_wait_samples.csv");
        var graph = Lines(zip, "series/host-alpha/open_fds_by_service.csv");
        using var manifest = JsonDocument.Parse(zip.GetEntry("snapshot.json")!.Open());

        Assert.Equal(await Harness.ScalarAsync<long>("SELECT count(*) FROM host_samples"), hostCsv.Count - 1);
        Assert.Equal(await Harness.ScalarAsync<long>("SELECT count(*) FROM process_samples"), processCsv.Count - 1);
        Assert.Equal(await Harness.ScalarAsync<long>("SELECT count(*) FROM close_wait_samples"), closeWaitCsv.Count - 1);
        Assert.Equal(2L * SnapshotCount, serviceCsv.Count - 1);
        Assert.StartsWith("time,host,file_handles_allocated,", hostCsv[0], StringComparison.Ordinal);
        Assert.StartsWith("time,start_ticks,host,service,pid,", processCsv[0], StringComparison.Ordinal);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z,(alpha|beta),", hostCsv[1]);
        // The hostile service: a leading apostrophe stops the formula, the field is quoted for its commas and quotes.
        const string Neutralised = "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\"),@cmd\"";
        Assert.Equal(SnapshotCount, processCsv.Count(l => l.Contains("," + Neutralised + ",", StringComparison.Ordinal)));
        Assert.DoesNotContain(processCsv, l => l.Contains(",=HYPERLINK", StringComparison.Ordinal));
        Assert.Contains(closeWaitCsv, l => l.EndsWith(",5432," + SnapshotCount + ",10.0.0.5", StringComparison.Ordinal) && l.Contains(",alpha,api,100,", StringComparison.Ordinal));

        var lines = snapshot!.Hosts.Single(h => h.Detail.Name == "alpha").Series.OpenFdsByService.Series;
        Assert.Equal("time,series,value", graph[0]);
        Assert.Equal(lines.Sum(l => l.Points.Count), graph.Count - 1);
        Assert.Contains(graph, l => l.EndsWith($",api,{AlphaApiFds(SnapshotCount)}", StringComparison.Ordinal));
        Assert.Contains(graph, l => l.EndsWith(",api,", StringComparison.Ordinal));
        Assert.Contains("series/service-api/close_wait_by_instance.csv", zip.Entries.Select(e => e.FullName));

        var root = manifest.RootElement;
        Assert.Equal(("fleet-incident-snapshot", 1, ServerName), (root.GetProperty("format").GetString(), root.GetProperty("formatVersion").GetInt32(), root.GetProperty("exportedFrom").GetString()));
        Assert.Equal(info.Id, root.GetProperty("document").GetProperty("snapshot").GetProperty("info").GetProperty("id").GetInt64());
    }

    [Theory]
    [InlineData("-1", false, "-1")]
    [InlineData("-1", true, "'-1")]
    [InlineData("+1", true, "'+1")]
    [InlineData("@SUM(A1)", true, "'@SUM(A1)")]
    [InlineData("a,b", true, "\"a,b\"")]
    [InlineData("say \"hi\"", true, "\"say \"\"hi\"\"\"")]
    [InlineData("two\nlines", true, "\"two\nlines\"")]
    [InlineData("plain", true, "plain")]
    public void CsvField_QuotesWhatRfc4180Requires_AndNeutralisesFormulasInTextOnly(string value, bool text, string expected) =>
        Assert.Equal(expected, SnapshotArchive.CsvField(value, text));

    [Fact]
    public async Task RenameThenDelete_ChangesTheListAndTheArchive_EachAuditedWithTheActor()
    {
        var store = Store(Harness);
        var info = await store.CreateAsync(Request("to rename"), "alice", CancellationToken.None).WaitAsync(TestTimeout);

        var renamed = await store.RenameAsync(info.Id, "  renamed: <b>db</b> =1+1  ", "alice", CancellationToken.None).WaitAsync(TestTimeout);
        var refusedEmpty = await Assert.ThrowsAsync<SnapshotRefusedException>(() => store.RenameAsync(info.Id, " ", "alice", CancellationToken.None).WaitAsync(TestTimeout));
        var refusedControl = await Assert.ThrowsAsync<SnapshotRefusedException>(() => store.RenameAsync(info.Id, "a\u0007b", "alice", CancellationToken.None).WaitAsync(TestTimeout));
        var refusedLong = await Assert.ThrowsAsync<SnapshotRefusedException>(() => store.RenameAsync(info.Id, new string('x', SnapshotRequest.MaxTitleLength + 1), "alice", CancellationToken.None).WaitAsync(TestTimeout));
        var unknown = await store.RenameAsync(long.MaxValue, "x", "alice", CancellationToken.None).WaitAsync(TestTimeout);
        var listed = (await store.ListAsync(CancellationToken.None).WaitAsync(TestTimeout)).Single(s => s.Id == info.Id);
        var opened = await store.OpenAsync(info.Id, CancellationToken.None).WaitAsync(TestTimeout);
        using var zip = new ZipArchive(new MemoryStream(await ExportAsync(store, info.Id)), ZipArchiveMode.Read);
        using var manifest = JsonDocument.Parse(zip.GetEntry("snapshot.json")!.Open());
        bool deleted = await store.DeleteAsync(info.Id, "alice", CancellationToken.None).WaitAsync(TestTimeout);
        bool deletedAgain = await store.DeleteAsync(info.Id, "alice", CancellationToken.None).WaitAsync(TestTimeout);
        var afterDelete = await store.OpenAsync(info.Id, CancellationToken.None).WaitAsync(TestTimeout);
        bool exported = await store.ExportAsync(info.Id, new MemoryStream(), CancellationToken.None).WaitAsync(TestTimeout);
        var list = await store.ListAsync(CancellationToken.None).WaitAsync(TestTimeout);

        Assert.Equal("renamed: <b>db</b> =1+1", renamed!.Title);
        Assert.Equal(["title: required"], refusedEmpty.Errors);
        Assert.Equal([$"title: at most {SnapshotRequest.MaxTitleLength} characters, without control characters"], refusedControl.Errors);
        Assert.Equal(refusedControl.Errors, refusedLong.Errors);
        Assert.Null(unknown);
        Assert.Equal(renamed.Title, listed.Title);
        Assert.Equal(renamed.Title, opened!.Info.Title);
        Assert.Equal(renamed.Title, manifest.RootElement.GetProperty("document").GetProperty("snapshot").GetProperty("info").GetProperty("title").GetString());
        Assert.Equal("alice", info.CreatedBy);
        Assert.True(deleted);
        Assert.False(deletedAgain);
        Assert.Null(afterDelete);
        Assert.False(exported);
        Assert.DoesNotContain(list, s => s.Id == info.Id);

        await using var db = await Contexts(Harness).CreateDbContextAsync().WaitAsync(TestTimeout);
        var audit = await db.AuditLog.AsNoTracking().Where(e => e.Entity == PostgresIncidentSnapshots.AuditEntity && e.EntityId == info.Id.ToString())
            .OrderBy(e => e.Id).ToListAsync().WaitAsync(TestTimeout);
        Assert.Equal([("created", "alice"), ("renamed", "alice"), ("deleted", "alice")], audit.Select(e => (e.Action, e.Actor)));
        Assert.Contains("to rename", audit[1].Before, StringComparison.Ordinal);
        Assert.Contains("renamed: <b>db</b>", audit[1].After, StringComparison.Ordinal);
        Assert.Null(audit[2].After);
    }

    [Fact]
    public async Task Create_OverMoreRawRowsThanOneSnapshotKeeps_IsRefusedNamingTheCountAndSuggestingAShorterRange()
    {
        long rows = await RawRowsAsync(Harness);
        var store = Store(Harness, new SnapshotOptions { MaxRawRows = rows - 1, ServerName = ServerName });
        int before = (await store.ListAsync(CancellationToken.None).WaitAsync(TestTimeout)).Count;

        var e = await Assert.ThrowsAsync<SnapshotRefusedException>(() => store.CreateAsync(Request("too big"), "tester", CancellationToken.None).WaitAsync(TestTimeout));
        var fits = await Store(Harness, new SnapshotOptions { MaxRawRows = rows, ServerName = ServerName }).CreateAsync(Request("just fits"), "tester", CancellationToken.None).WaitAsync(TestTimeout);

        var error = Assert.Single(e.Errors);
        Assert.Contains($"{rows:N0} stored samples", error, StringComparison.Ordinal);
        Assert.Contains("shorter range", error, StringComparison.Ordinal);
        Assert.StartsWith("to: ", error, StringComparison.Ordinal);
        Assert.Equal(before + 1, (await store.ListAsync(CancellationToken.None).WaitAsync(TestTimeout)).Count);
        Assert.Equal("just fits", fits.Title);
    }

    public static TheoryData<string> RefusedCases => new()
    {
        "not a zip", "empty", "no snapshot.json", "wrong format", "no format", "wrong version", "archive too large", "entry too large",
        "zip bomb", "malformed JSON", "NUL in the notes", "truncated JSON", "invalid title, window and hosts", "unknown raw table", "raw row of the wrong width", "null where a value is required", "null in a list",
    };

    [Theory]
    [MemberData(nameof(RefusedCases))]
    public async Task Import_OfABadArchive_IsRefusedNamingWhatIsWrong_AndStoresNothing(string @case)
    {
        var store = Store(Harness);
        var good = await ExportAsync(store, (await store.CreateAsync(Request("source of " + @case), "tester", CancellationToken.None).WaitAsync(TestTimeout)).Id);
        var options = new SnapshotOptions { ServerName = ServerName };
        byte[] archive;
        string expected;
        switch (@case)
        {
            case "not a zip":
                (archive, expected) = ("PK this is not a zip, just text"u8.ToArray(), "archive: not a readable zip file");
                break;
            case "empty":
                (archive, expected) = ([], "archive: empty");
                break;
            case "no snapshot.json":
                (archive, expected) = (IncidentFixture.Zip(("raw/host_samples.csv", "time\r\n"u8.ToArray())), "archive: no snapshot.json in it");
                break;
            case "wrong format":
                (archive, expected) = (Manifest(j => j["format"] = "grafana-snapshot"), "snapshot.json: format is \"grafana-snapshot\", \"fleet-incident-snapshot\" expected");
                break;
            case "no format":
                (archive, expected) = (IncidentFixture.Zip(("snapshot.json", "{\"dashboard\": {}}"u8.ToArray())), "snapshot.json: no \"format\"; \"fleet-incident-snapshot\" expected");
                break;
            case "wrong version":
                (archive, expected) = (Manifest(j => j["formatVersion"] = 2), "snapshot.json: format version 2 is not supported (this server reads version 1)");
                break;
            case "archive too large":
                options.MaxArchiveBytes = good.Length - 1;
                (archive, expected) = (good, $"archive: larger than the {good.Length - 1} bytes accepted");
                break;
            case "entry too large":
                options.MaxEntryBytes = 4096;
                (archive, expected) = (good, "snapshot.json: ");
                break;
            case "zip bomb":
                (archive, expected) = (IncidentFixture.Zip(("snapshot.json", Encoding.UTF8.GetBytes("{\"format\":\"fleet-incident-snapshot\"" + new string(' ', 4_000_000) + "}"))), "(a zip bomb?)");
                break;
            case "malformed JSON":
                (archive, expected) = (Manifest(j => j["document"]!["snapshot"]!["info"] = "oops"), "snapshot.json: malformed JSON at $.document.snapshot.info, line 1");
                break;
            case "truncated JSON":
                (archive, expected) = (IncidentFixture.Zip(("snapshot.json", "{\"format\":\"fleet-incident-snapshot\",\n\"formatVersion\":1,\n\"document\":{\"raw\":["u8.ToArray())), "snapshot.json: malformed JSON at $, line 3");
                break;
            case "invalid title, window and hosts":
                (archive, expected) = (Manifest(j =>
                {
                    var info = j["document"]!["snapshot"]!["info"]!;
                    info["title"] = "";
                    info["to"] = info["from"]!.DeepClone();
                    info["hosts"] = new JsonArray();
                }), "title: required|hosts: at least one host|to: must be after from");
                break;
            case "NUL in the notes":
                (archive, expected) = (Manifest(j => j["document"]!["snapshot"]!["info"]!["notes"] = "a\u0000b"), "notes: without NUL characters");
                break;
            case "unknown raw table":
                (archive, expected) = (Manifest(j => j["document"]!["raw"]![0]!["name"] = "pg_authid"), "raw: unknown table \"pg_authid\"");
                break;
            case "raw row of the wrong width":
                (archive, expected) = (Manifest(j => j["document"]!["raw"]![0]!["rows"]![0]!.AsArray().RemoveAt(0)), "raw.host_samples: 1 rows without");
                break;
            case "null where a value is required":
                (archive, expected) = (Manifest(j => j["document"]!["snapshot"]!["hosts"]![0]!["detail"]!["name"] = null), "snapshot.json: malformed JSON at $.document.snapshot.hosts[0].detail.name");
                break;
            case "null in a list":
                (archive, expected) = (Manifest(j => j["document"]!["snapshot"]!["hosts"]![0]!["detail"]!["processes"]!.AsArray().Insert(1, null)), "document.snapshot.hosts[0].detail.processes[1]: a value is required");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(@case), @case, null);
        }
        var strict = Store(Harness, options);
        int before = (await strict.ListAsync(CancellationToken.None).WaitAsync(TestTimeout)).Count;

        var e = await Assert.ThrowsAsync<SnapshotRefusedException>(() => strict.ImportAsync(new MemoryStream(archive), "tester", CancellationToken.None).WaitAsync(TestTimeout));

        foreach (string part in expected.Split('|'))
        {
            Assert.Contains(e.Errors, error => error.Contains(part, StringComparison.Ordinal));
        }
        Assert.Equal(before, (await strict.ListAsync(CancellationToken.None).WaitAsync(TestTimeout)).Count);

        byte[] Manifest(Action<JsonNode> change)
        {
            using var zip = new ZipArchive(new MemoryStream(good), ZipArchiveMode.Read);
            using var reader = new StreamReader(zip.GetEntry("snapshot.json")!.Open());
            var node = JsonNode.Parse(reader.ReadToEnd())!;
            change(node);
            return IncidentFixture.Zip(("snapshot.json", Encoding.UTF8.GetBytes(node.ToJsonString())));
        }
    }

    [Fact]
    public async Task Import_KeepsHostileStringsVerbatim_AsData()
    {
        var store = Store(Harness);
        var source = await store.CreateAsync(Request("hostile source"), "tester", CancellationToken.None).WaitAsync(TestTimeout);
        const string Title = "<script>alert('x')</script> =cmd|'/c calc'!A1 \"; DROP TABLE incident_snapshots; --";
        const string Notes = "line one\nline two\t<img src=x onerror=alert(1)> ${jndi:ldap://x} \u202Eevil \u00e9\U0001F525";
        using var zip = new ZipArchive(new MemoryStream(await ExportAsync(store, source.Id)), ZipArchiveMode.Read);
        using var reader = new StreamReader(zip.GetEntry("snapshot.json")!.Open());
        var node = JsonNode.Parse(reader.ReadToEnd())!;
        node["document"]!["snapshot"]!["info"]!["title"] = Title;
        node["document"]!["snapshot"]!["info"]!["notes"] = Notes;
        node["exportedFrom"] = "https://other.example/<b>";

        var imported = await store.ImportAsync(new MemoryStream(IncidentFixture.Zip(("snapshot.json", Encoding.UTF8.GetBytes(node.ToJsonString())))), "tester", CancellationToken.None).WaitAsync(TestTimeout);
        var opened = await store.OpenAsync(imported.Id, CancellationToken.None).WaitAsync(TestTimeout);

        Assert.Equal((Title, Notes), (opened!.Info.Title, opened.Info.Notes));
        Assert.Equal($"https://other.example/<b> #{source.Id}", opened.Info.ImportedFrom);
        Assert.Contains(opened.Hosts.Single(h => h.Detail.Name == "alpha").Detail.Services, s => s.Name == HostileService);
    }

    private static async Task<byte[]> ExportAsync(PostgresIncidentSnapshots store, long id)
    {
        using var buffer = new MemoryStream();
        Assert.True(await store.ExportAsync(id, buffer, CancellationToken.None).WaitAsync(TestTimeout));
        return buffer.ToArray();
    }

    private static List<string> Lines(ZipArchive zip, string name)
    {
        var entry = zip.GetEntry(name) ?? throw new InvalidOperationException($"no {name} in the archive: {string.Join(", ", zip.Entries.Select(e => e.FullName))}");
        using var reader = new StreamReader(entry.Open());
        string text = reader.ReadToEnd();
        Assert.EndsWith("\r\n", text, StringComparison.Ordinal);
        return [.. text[..^2].Split("\r\n")];
    }
}
