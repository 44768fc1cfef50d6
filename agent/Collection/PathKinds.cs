namespace Fleet.Agent.Collection;

/// <summary>
/// What kind of file each path held open is, remembered for one collection: many fds name the same
/// path (/dev/null, a log file opened per request), and asking the kernel once per path instead of
/// once per fd saves a statx for each repeat. Within one collection a path that is not "(deleted)"
/// names one dentry, so every fd showing it has the same file type. Cleared before each collection.
/// </summary>
internal sealed class PathKinds
{
    private const int MaxEntries = 65536;
    private readonly Dictionary<int, (byte[] Path, FdKind Kind)> _byHash = new();

    public void Clear() => _byHash.Clear();

    public bool TryGet(ReadOnlySpan<byte> path, out FdKind kind)
    {
        if (_byHash.TryGetValue(Hash(path), out var entry) && entry.Path.AsSpan().SequenceEqual(path))
        {
            kind = entry.Kind;
            return true;
        }
        kind = default;
        return false;
    }

    public void Remember(ReadOnlySpan<byte> path, FdKind kind)
    {
        // A deleted file's name may be shared by several different (deleted) files.
        if (path.EndsWith(" (deleted)"u8) || _byHash.Count >= MaxEntries)
        {
            return;
        }
        _byHash.TryAdd(Hash(path), (path.ToArray(), kind));
    }

    private static int Hash(ReadOnlySpan<byte> path)
    {
        var h = new HashCode();
        h.AddBytes(path);
        return h.ToHashCode();
    }
}
