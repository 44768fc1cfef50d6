using Fleet.Agent.Streaming;
using Fleet.Contracts.V1;

namespace Fleet.Agent.Tests.Streaming;

public class SnapshotSpoolTests
{
    private static ulong Add(SnapshotSpool spool, int processes = 1)
    {
        ulong sequence = spool.ReserveSequence();
        spool.Append(Snapshots.Make(sequence, processes: processes));
        return sequence;
    }

    private static List<ulong> Sequences(SnapshotSpool spool)
    {
        var sequences = new List<ulong>();
        ulong cursor = 0;
        while (spool.TryNextAfter(cursor, out ulong next))
        {
            sequences.Add(next);
            cursor = next;
        }
        return sequences;
    }

    private static string FileOf(TempFolder folder, ulong sequence) =>
        Path.Combine(folder.Path, SnapshotSpool.SpoolFolderName, $"{sequence:D20}{SnapshotSpool.Extension}");

    [Fact]
    public void Reopen_AfterARestart_SeesTheSameEntriesAgentIdAndContinuesTheSequence()
    {
        using var folder = new TempFolder();
        string agentId;
        using (var first = SnapshotSpool.Open(folder.Path))
        {
            agentId = first.AgentId;
            Add(first);
            Add(first);
            Add(first);
        }

        using var second = SnapshotSpool.Open(folder.Path);

        Assert.Equal(agentId, second.AgentId);
        Assert.True(Guid.TryParse(second.AgentId, out _));
        Assert.Equal([1UL, 2, 3], Sequences(second));
        Assert.Equal(1UL, second.OldestSequence);
        Assert.Equal(4UL, second.ReserveSequence());
        var read = second.Read(2);
        Assert.NotNull(read);
        Assert.Equal(Snapshots.Make(2), read);
    }

    [Fact]
    public void NextSequence_AfterEverythingWasAcknowledged_IsNeverReusedAcrossRestarts()
    {
        using var folder = new TempFolder();
        using (var first = SnapshotSpool.Open(folder.Path))
        {
            Add(first);
            Add(first);
            first.RemoveThrough(2);
            Assert.Equal(0, first.Count);
            Assert.Equal(0UL, first.OldestSequence);
        }

        using var second = SnapshotSpool.Open(folder.Path);

        Assert.Equal(0, second.Count);
        Assert.Equal(3UL, second.ReserveSequence());
    }

    [Fact]
    public void EnsureNextSequenceAbove_WhenTheServerIsAhead_MovesPastItAndRemembersAcrossRestarts()
    {
        // A state folder restored from an older copy: the server has committed up to 500 for this agent id.
        using var folder = new TempFolder();
        using (var restored = SnapshotSpool.Open(folder.Path))
        {
            Add(restored);

            Assert.True(restored.EnsureNextSequenceAbove(500));
            Assert.False(restored.EnsureNextSequenceAbove(20));
            Assert.Equal(501UL, restored.ReserveSequence());
        }

        using var reopened = SnapshotSpool.Open(folder.Path);

        Assert.Equal(502UL, reopened.ReserveSequence());
    }

    [Fact]
    public void NewStateFolder_GetsANewAgentIdAndStartsAtOne()
    {
        using var a = new TempFolder();
        using var b = new TempFolder();
        using var first = SnapshotSpool.Open(a.Path);
        using var second = SnapshotSpool.Open(b.Path);

        Assert.NotEqual(first.AgentId, second.AgentId);
        Assert.Equal(1UL, first.ReserveSequence());
    }

    [Fact]
    public void Append_OverTheCountLimit_DropsTheOldestAndCountsThem()
    {
        using var folder = new TempFolder();
        var logger = new ListLogger();
        using var spool = SnapshotSpool.Open(folder.Path, new SpoolLimits(3, long.MaxValue), logger);

        for (int i = 0; i < 5; i++)
        {
            Add(spool);
        }

        Assert.Equal([3UL, 4, 5], Sequences(spool));
        Assert.Equal(2, spool.DroppedCount);
        Assert.False(File.Exists(FileOf(folder, 1)));
        Assert.True(logger.Contains(Microsoft.Extensions.Logging.LogLevel.Warning, "spool full"));
    }

    [Fact]
    public void Append_OverTheByteLimit_DropsTheOldestButKeepsTheNewest()
    {
        using var folder = new TempFolder();
        using var spool = SnapshotSpool.Open(folder.Path, new SpoolLimits(1000, 4096));

        for (int i = 0; i < 10; i++)
        {
            Add(spool, processes: 10);
        }

        Assert.True(spool.Bytes <= 4096, $"{spool.Bytes} bytes spooled");
        Assert.Equal(10UL, Sequences(spool).Last());
        Assert.Equal(10 - spool.Count, spool.DroppedCount);
        Assert.True(spool.DroppedCount > 0);
    }

    [Fact]
    public void Open_WithATruncatedFileAndALeftoverTemporary_SkipsAndCountsThemAndKeepsTheRest()
    {
        using var folder = new TempFolder();
        using (var first = SnapshotSpool.Open(folder.Path))
        {
            Add(first);
            Add(first);
            Add(first);
        }
        // A crash mid-write: a file cut short, and a temporary that never got its rename.
        using (var file = new FileStream(FileOf(folder, 2), FileMode.Open))
        {
            file.SetLength(file.Length / 2);
        }
        File.WriteAllBytes(FileOf(folder, 4) + ".tmp", [1, 2, 3]);

        using var second = SnapshotSpool.Open(folder.Path);

        Assert.Equal([1UL, 3], Sequences(second));
        Assert.Equal(1, second.CorruptCount);
        Assert.Empty(Directory.GetFiles(Path.Combine(folder.Path, SnapshotSpool.SpoolFolderName), "*.tmp"));
        Assert.True(second.ReserveSequence() >= 4);
    }

    [Fact]
    public void Read_OfADamagedPayload_ReturnsNothingRemovesItAndCountsIt()
    {
        using var folder = new TempFolder();
        using var spool = SnapshotSpool.Open(folder.Path);
        Add(spool);
        Add(spool);
        byte[] bytes = File.ReadAllBytes(FileOf(folder, 1));
        bytes[^3] ^= 0xFF;
        File.WriteAllBytes(FileOf(folder, 1), bytes);

        var read = spool.Read(1);

        Assert.Null(read);
        Assert.Equal(1, spool.CorruptCount);
        Assert.Equal([2UL], Sequences(spool));
        Assert.NotNull(spool.Read(2));
    }

    [Fact]
    public void RemoveThrough_DropsEverythingUpToTheSequenceInclusive()
    {
        using var folder = new TempFolder();
        using var spool = SnapshotSpool.Open(folder.Path);
        for (int i = 0; i < 5; i++)
        {
            Add(spool);
        }

        int removed = spool.RemoveThrough(3);

        Assert.Equal(3, removed);
        Assert.Equal([4UL, 5], Sequences(spool));
        Assert.False(File.Exists(FileOf(folder, 3)));
    }

    [Fact]
    public void Open_WhileAnotherAgentHoldsTheFolder_ThrowsNamingIt()
    {
        using var folder = new TempFolder();
        using var first = SnapshotSpool.Open(folder.Path);

        var e = Assert.Throws<IOException>(() => SnapshotSpool.Open(folder.Path));

        Assert.Contains("in use by another fleet-agent", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_OfASequenceNotReserved_Throws()
    {
        using var folder = new TempFolder();
        using var spool = SnapshotSpool.Open(folder.Path);

        Assert.Throws<ArgumentException>(() => spool.Append(Snapshots.Make(7)));
        Assert.Throws<ArgumentException>(() => spool.Append(new Snapshot()));
    }
}
