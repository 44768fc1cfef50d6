using Fleet.Server.Tests.Storage;

namespace Fleet.Server.Tests.Snapshots;

/// <summary>A database of its own with the incident of <see cref="SnapshotRig"/> stored once; tests add snapshots of it.</summary>
public sealed class IncidentFixture : IAsyncLifetime
{
    public StorageHarness Harness { get; } = new();

    public async Task InitializeAsync()
    {
        await Harness.InitializeAsync();
        await SnapshotRig.StoreIncidentAsync(Harness);
    }

    public Task DisposeAsync() => Harness.DisposeAsync();

    /// <summary>A zip of the given entries (name, content), as a hand-made archive.</summary>
    public static byte[] Zip(params (string Name, byte[] Content)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(buffer, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var s = zip.CreateEntry(name).Open();
                s.Write(content);
            }
        }
        return buffer.ToArray();
    }
}
