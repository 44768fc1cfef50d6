using System.Buffers.Binary;
using System.Globalization;
using Fleet.Contracts.V1;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fleet.Agent.Streaming;

/// <summary>
/// The agent's state folder: its id, the next sequence number, and the snapshots the server has not yet
/// acknowledged, one file per snapshot (<c>spool/NNNNNNNNNNNNNNNNNNNN.snap</c>: a 12-byte header with a
/// magic, the length and a CRC-32, then the protobuf bytes), each written to a temporary file, flushed and
/// renamed, so that a crash leaves either the whole snapshot or none of it. Damaged files are skipped,
/// deleted and counted. Only the sequence numbers and sizes are kept in memory; the snapshots are read back
/// when they are sent. Thread-safe: the collection loop appends while the stream removes acknowledged ones.
/// </summary>
internal sealed class SnapshotSpool : IDisposable
{
    public const string StateFileName = "agent.state";
    public const string LockFileName = "agent.lock";
    public const string SpoolFolderName = "spool";
    public const string Extension = ".snap";
    public const int HeaderSize = 12;

    private static ReadOnlySpan<byte> Magic => "FSP1"u8;

    private readonly Lock _gate = new();
    private readonly SortedSet<ulong> _sequences = new();
    private readonly Dictionary<ulong, long> _sizes = new();
    private readonly string _spoolDirectory;
    private readonly string _statePath;
    private readonly SpoolLimits _limits;
    private readonly ILogger _logger;
    private readonly FileStream _lock;
    private ulong _nextSequence;
    private long _bytes;
    private long _dropped;
    private long _corrupt;

    private SnapshotSpool(string directory, string agentId, SpoolLimits limits, ILogger logger, FileStream lockFile)
    {
        StateDirectory = directory;
        AgentId = agentId;
        _limits = limits;
        _logger = logger;
        _lock = lockFile;
        _spoolDirectory = Path.Combine(directory, SpoolFolderName);
        _statePath = Path.Combine(directory, StateFileName);
    }

    public string StateDirectory { get; }

    /// <summary>A random id made the first time this state folder was used (see Hello.agent_id).</summary>
    public string AgentId { get; }

    public SpoolLimits Limits => _limits;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _sequences.Count;
            }
        }
    }

    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>The oldest sequence still waiting for an acknowledgement, 0 when the spool is empty.</summary>
    public ulong OldestSequence
    {
        get
        {
            lock (_gate)
            {
                return _sequences.Count > 0 ? _sequences.Min : 0;
            }
        }
    }

    /// <summary>The sequence number the next reservation will hand out.</summary>
    public ulong NextSequence
    {
        get
        {
            lock (_gate)
            {
                return _nextSequence;
            }
        }
    }

    /// <summary>Snapshots dropped unsent because the spool was full (oldest first).</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    /// <summary>Spool files found damaged (a crash mid-write, a bad disk) and skipped.</summary>
    public long CorruptCount => Interlocked.Read(ref _corrupt);

    /// <summary>
    /// Opens (creating when needed) the state folder, takes its lock (one agent per folder), reads the agent
    /// id and next sequence, and indexes the spooled snapshots, skipping damaged ones.
    /// </summary>
    public static SnapshotSpool Open(string stateDirectory, SpoolLimits? limits = null, ILogger? logger = null)
    {
        limits ??= SpoolLimits.Default;
        logger ??= NullLogger.Instance;
        if (limits.MaxSnapshots < 1 || limits.MaxBytes < 1)
        {
            throw new ArgumentException($"spool limits must be positive, not {limits.MaxSnapshots} snapshots / {limits.MaxBytes} bytes", nameof(limits));
        }
        string directory = Path.GetFullPath(stateDirectory);
        Directory.CreateDirectory(directory);
        Directory.CreateDirectory(Path.Combine(directory, SpoolFolderName));
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(Path.Combine(directory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"the state folder '{directory}' is in use by another fleet-agent ({e.Message})", e);
        }

        try
        {
            var (agentId, next) = ReadState(Path.Combine(directory, StateFileName), logger);
            bool newAgent = agentId is null;
            agentId ??= Guid.NewGuid().ToString("D");
            var spool = new SnapshotSpool(directory, agentId, limits, logger, lockFile);
            spool.Index();
            ulong afterSpooled = spool._sequences.Count > 0 ? spool._sequences.Max + 1 : 1;
            spool._nextSequence = Math.Max(Math.Max(next, afterSpooled), 1);
            spool.WriteState();
            if (newAgent)
            {
                logger.NewAgentId(agentId, directory);
            }
            if (spool._sequences.Count > 0)
            {
                logger.SpoolLoaded(spool._sequences.Count, spool._sequences.Min, spool._sequences.Max, spool._bytes);
            }
            return spool;
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>Hands out the next sequence number and records it on disk first, so it is never used twice.</summary>
    public ulong ReserveSequence()
    {
        lock (_gate)
        {
            ulong sequence = _nextSequence++;
            WriteState();
            return sequence;
        }
    }

    /// <summary>
    /// Moves the next sequence number past what the server says it already committed for this agent id.
    /// Only a state folder restored from an older copy is behind the server; its new snapshots would
    /// otherwise be taken for replays and dropped until the numbers caught up. Returns whether it moved.
    /// </summary>
    public bool EnsureNextSequenceAbove(ulong committed)
    {
        lock (_gate)
        {
            if (_nextSequence > committed)
            {
                return false;
            }
            _nextSequence = committed + 1;
            WriteState();
            return true;
        }
    }

    /// <summary>Writes a snapshot (its sequence reserved before) durably, then drops the oldest while over the limits.</summary>
    public void Append(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ulong sequence = snapshot.Sequence;
        if (sequence == 0 || sequence >= NextSequence)
        {
            throw new ArgumentException($"sequence {sequence} was not reserved from this spool", nameof(snapshot));
        }
        byte[] payload = snapshot.ToByteArray();
        Span<byte> header = stackalloc byte[HeaderSize];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32.Compute(payload));
        DurableFile.Write(PathOf(sequence), header, payload);

        var dropped = new List<ulong>();
        lock (_gate)
        {
            if (_sequences.Add(sequence))
            {
                _sizes[sequence] = HeaderSize + payload.Length;
                _bytes += HeaderSize + payload.Length;
            }
            while ((_sequences.Count > _limits.MaxSnapshots || _bytes > _limits.MaxBytes) && _sequences.Count > 1)
            {
                ulong oldest = _sequences.Min;
                RemoveLocked(oldest);
                dropped.Add(oldest);
            }
        }
        if (dropped.Count > 0)
        {
            long total = Interlocked.Add(ref _dropped, dropped.Count);
            _logger.SpoolFull(_limits.MaxSnapshots, _limits.MaxBytes, dropped[0], dropped[^1], total);
        }
    }

    /// <summary>The first spooled sequence after <paramref name="after"/>, in order.</summary>
    public bool TryNextAfter(ulong after, out ulong sequence)
    {
        lock (_gate)
        {
            if (_sequences.Count == 0 || _sequences.Max <= after)
            {
                sequence = 0;
                return false;
            }
            sequence = after == ulong.MaxValue ? 0 : _sequences.GetViewBetween(after + 1, ulong.MaxValue).Min;
            return sequence != 0;
        }
    }

    public bool Contains(ulong sequence)
    {
        lock (_gate)
        {
            return _sequences.Contains(sequence);
        }
    }

    /// <summary>
    /// Reads a spooled snapshot back; null when it is gone (acknowledged or dropped meanwhile) or damaged
    /// (then it is deleted and counted).
    /// </summary>
    public Snapshot? Read(ulong sequence)
    {
        if (!Contains(sequence))
        {
            return null;
        }
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(PathOf(sequence));
        }
        catch (FileNotFoundException)
        {
            Remove(sequence);
            return null;
        }
        string? problem = Check(bytes, bytes.Length);
        if (problem is null)
        {
            try
            {
                var snapshot = Snapshot.Parser.ParseFrom(bytes.AsSpan(HeaderSize));
                if (snapshot.Sequence == sequence)
                {
                    return snapshot;
                }
                problem = $"holds sequence {snapshot.Sequence}";
            }
            catch (InvalidProtocolBufferException e)
            {
                problem = e.Message;
            }
        }
        Corrupt(PathOf(sequence), problem);
        Remove(sequence);
        return null;
    }

    /// <summary>Removes an acknowledged or rejected snapshot.</summary>
    public bool Remove(ulong sequence)
    {
        lock (_gate)
        {
            return RemoveLocked(sequence);
        }
    }

    /// <summary>Removes everything up to and including <paramref name="sequence"/> (what the server already has).</summary>
    public int RemoveThrough(ulong sequence)
    {
        lock (_gate)
        {
            int removed = 0;
            while (_sequences.Count > 0 && _sequences.Min <= sequence)
            {
                RemoveLocked(_sequences.Min);
                removed++;
            }
            return removed;
        }
    }

    public void Dispose() => _lock.Dispose();

    private bool RemoveLocked(ulong sequence)
    {
        if (!_sequences.Remove(sequence))
        {
            return false;
        }
        _bytes -= _sizes[sequence];
        _sizes.Remove(sequence);
        try
        {
            File.Delete(PathOf(sequence));
        }
        catch (IOException e)
        {
            _logger.SpoolDeleteFailed(PathOf(sequence), e.Message);
        }
        return true;
    }

    private string PathOf(ulong sequence) =>
        Path.Combine(_spoolDirectory, sequence.ToString("D20", CultureInfo.InvariantCulture) + Extension);

    private void Index()
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        foreach (string path in Directory.EnumerateFiles(_spoolDirectory))
        {
            string name = Path.GetFileName(path);
            if (name.EndsWith(DurableFile.TempSuffix, StringComparison.Ordinal))
            {
                // A write that never reached its rename: the snapshot was never spooled.
                TryDelete(path);
                continue;
            }
            if (!name.EndsWith(Extension, StringComparison.Ordinal)
                || !ulong.TryParse(name.AsSpan(0, name.Length - Extension.Length), NumberStyles.None, CultureInfo.InvariantCulture, out ulong sequence)
                || sequence == 0)
            {
                continue;
            }
            long length;
            string? problem;
            try
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
                length = file.Length;
                int read = file.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false);
                problem = read < HeaderSize ? $"truncated header ({length} bytes)" : CheckHeader(header, length);
            }
            catch (IOException e)
            {
                length = 0;
                problem = e.Message;
            }
            if (problem is not null)
            {
                Corrupt(path, problem);
                continue;
            }
            _sequences.Add(sequence);
            _sizes[sequence] = length;
            _bytes += length;
        }
    }

    private void Corrupt(string path, string problem)
    {
        long total = Interlocked.Increment(ref _corrupt);
        _logger.SpoolFileDamaged(path, problem, total);
        TryDelete(path);
    }

    private static string? Check(byte[] bytes, long length)
    {
        if (length < HeaderSize)
        {
            return $"truncated header ({length} bytes)";
        }
        string? problem = CheckHeader(bytes.AsSpan(0, HeaderSize), length);
        if (problem is not null)
        {
            return problem;
        }
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        return Crc32.Compute(bytes.AsSpan(HeaderSize)) == crc ? null : "checksum mismatch";
    }

    private static string? CheckHeader(ReadOnlySpan<byte> header, long length)
    {
        if (!header[..4].SequenceEqual(Magic))
        {
            return "not a spool file (bad magic)";
        }
        uint payload = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        return HeaderSize + (long)payload == length ? null : $"truncated: header says {payload} bytes, file has {length - HeaderSize}";
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Tried again at the next start.
        }
    }

    private static (string? AgentId, ulong NextSequence) ReadState(string path, ILogger logger)
    {
        if (!File.Exists(path))
        {
            return (null, 1);
        }
        string? agentId = null;
        ulong next = 1;
        foreach (string raw in File.ReadAllLines(path))
        {
            string line = raw.Trim();
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (line.StartsWith('#') || eq < 0)
            {
                continue;
            }
            string key = line[..eq].Trim();
            string value = line[(eq + 1)..].Trim();
            if (key == "agent_id" && Guid.TryParse(value, out var id))
            {
                agentId = id.ToString("D");
            }
            else if (key == "next_sequence" && ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n))
            {
                next = n;
            }
        }
        if (agentId is null)
        {
            logger.StateWithoutAgentId(path);
        }
        return (agentId, next);
    }

    private void WriteState()
    {
        string text = string.Create(CultureInfo.InvariantCulture,
            $"# fleet-agent state: written by the agent, do not edit\nagent_id={AgentId}\nnext_sequence={_nextSequence}\n");
        DurableFile.Write(_statePath, System.Text.Encoding.UTF8.GetBytes(text), []);
    }
}
