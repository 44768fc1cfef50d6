using System.Runtime.InteropServices;
using System.Text;
using Fleet.Agent.Collection.Native;

namespace Fleet.Agent.Collection.Procfs;

/// <summary>
/// An open directory descriptor under the procfs root. Files below it are opened, listed and
/// link-read relative to it. Errors come back as errno values: ENOENT/ESRCH mean the process is gone,
/// EACCES/EPERM that the agent may not look.
/// </summary>
internal sealed unsafe class ProcDir : IDisposable
{
    private int _fd;

    private ProcDir(int fd) => _fd = fd;

    public int Fd => _fd;

    public static ProcDir OpenRoot(string path, out int errno)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            int fd = LibC.OpenAt(LibC.AT_FDCWD, p, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0);
            errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
            return new ProcDir(fd);
        }
    }

    public bool IsOpen => _fd >= 0;

    /// <summary>Opens a subdirectory; returns null and the errno when it cannot.</summary>
    public ProcDir? OpenDir(ReadOnlySpan<byte> name, out int errno)
    {
        int fd = OpenRelative(name, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC, out errno);
        return fd < 0 ? null : new ProcDir(fd);
    }

    public int OpenRelative(ReadOnlySpan<byte> name, int flags, out int errno)
    {
        Span<byte> z = stackalloc byte[name.Length + 1];
        name.CopyTo(z);
        z[name.Length] = 0;
        fixed (byte* p = z)
        {
            int fd;
            do
            {
                fd = LibC.OpenAt(_fd, p, flags, 0);
                errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
            }
            while (fd < 0 && errno == LibC.EINTR);
            return fd;
        }
    }

    /// <summary>
    /// Reads a whole (small) file into <paramref name="buffer"/>, growing it up to <paramref name="maxBytes"/>.
    /// Returns the length read, or -errno. A file longer than maxBytes is cut at maxBytes.
    /// </summary>
    public int ReadFile(ReadOnlySpan<byte> name, ref byte[] buffer, int maxBytes = 1 << 20)
    {
        int fd = OpenRelative(name, LibC.O_RDONLY | LibC.O_CLOEXEC, out int errno);
        if (fd < 0)
        {
            return -errno;
        }
        try
        {
            return ReadAll(fd, ref buffer, maxBytes);
        }
        finally
        {
            LibC.Close(fd);
        }
    }

    internal static int ReadAll(int fd, ref byte[] buffer, int maxBytes)
    {
        int total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (buffer.Length >= maxBytes)
                {
                    return total;
                }
                Array.Resize(ref buffer, Math.Min(maxBytes, buffer.Length * 2));
            }
            nint n;
            fixed (byte* p = &buffer[total])
            {
                n = LibC.Read(fd, p, (nuint)(buffer.Length - total));
            }
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == LibC.EINTR)
                {
                    continue;
                }
                return -errno;
            }
            if (n == 0)
            {
                return total;
            }
            total += (int)n;
        }
    }

    /// <summary>Reads a symbolic link; returns its length in <paramref name="target"/> or -errno.</summary>
    public int ReadLink(ReadOnlySpan<byte> name, Span<byte> target)
    {
        Span<byte> z = stackalloc byte[name.Length + 1];
        name.CopyTo(z);
        z[name.Length] = 0;
        fixed (byte* p = z)
        {
            return ReadLinkZ(p, target);
        }
    }

    /// <summary>readlinkat with a NUL-terminated name (such as one inside a getdents64 buffer).</summary>
    public int ReadLinkZ(byte* nameZ, Span<byte> target)
    {
        fixed (byte* t = target)
        {
            nint n = LibC.ReadLinkAt(_fd, nameZ, t, (nuint)target.Length);
            return n < 0 ? -Marshal.GetLastPInvokeError() : (int)n;
        }
    }

    /// <summary>The file type bits (S_IFMT) of what a name below this directory points at, following links; or -errno.</summary>
    public int FileTypeZ(byte* nameZ)
    {
        byte* statx = stackalloc byte[256];
        int rc = LibC.Statx(_fd, nameZ, LibC.AT_STATX_DONT_SYNC | LibC.AT_NO_AUTOMOUNT, LibC.STATX_TYPE, statx);
        if (rc != 0)
        {
            return -Marshal.GetLastPInvokeError();
        }
        return *(ushort*)(statx + 28) & 0xF000;
    }

    /// <summary>
    /// The size statx reports for a name below this directory (not following links), or -errno. For
    /// /proc/PID/fd that is the number of open fds on Linux 6.2 and later (0 on older kernels).
    /// </summary>
    public long Size(ReadOnlySpan<byte> name)
    {
        Span<byte> z = stackalloc byte[name.Length + 1];
        name.CopyTo(z);
        z[name.Length] = 0;
        byte* statx = stackalloc byte[256];
        fixed (byte* p = z)
        {
            if (LibC.Statx(_fd, p, LibC.AT_STATX_DONT_SYNC | LibC.AT_SYMLINK_NOFOLLOW, LibC.STATX_SIZE, statx) != 0)
            {
                return -Marshal.GetLastPInvokeError();
            }
        }
        return *(long*)(statx + 40);
    }

    /// <summary>The size statx reports for this open directory itself, or -errno.</summary>
    public long OwnSize()
    {
        byte* statx = stackalloc byte[256];
        byte empty = 0;
        if (LibC.Statx(_fd, &empty, LibC.AT_STATX_DONT_SYNC | LibC.AT_EMPTY_PATH, LibC.STATX_SIZE, statx) != 0)
        {
            return -Marshal.GetLastPInvokeError();
        }
        return *(long*)(statx + 40);
    }

    /// <summary>One getdents64 call: bytes of entries read into <paramref name="buffer"/>, 0 at the end, or -errno.</summary>
    public nint GetDents(byte* buffer, int size)
    {
        while (true)
        {
            nint n = LibC.GetDents64(_fd, buffer, (nuint)size);
            if (n >= 0)
            {
                return n;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno != LibC.EINTR)
            {
                return -errno;
            }
        }
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            LibC.Close(_fd);
            _fd = -1;
        }
    }
}

/// <summary>
/// Walks the entries of a directory through a pinned buffer, without allocating per entry.
/// Names are NUL-terminated inside the buffer and valid until the next <see cref="MoveNext"/>.
/// </summary>
internal unsafe ref struct DirEntries
{
    private readonly ProcDir _dir;
    private readonly byte* _buffer;
    private readonly int _size;
    private nint _length;
    private int _offset;

    public DirEntries(ProcDir dir, byte* buffer, int size)
    {
        _dir = dir;
        _buffer = buffer;
        _size = size;
    }

    /// <summary>0, or the errno that stopped the listing.</summary>
    public int Error { get; private set; }

    public bool MoveNext(out byte* nameZ)
    {
        while (true)
        {
            if (_offset >= _length)
            {
                _length = _dir.GetDents(_buffer, _size);
                _offset = 0;
                if (_length <= 0)
                {
                    Error = _length < 0 ? (int)-_length : 0;
                    nameZ = null;
                    return false;
                }
            }
            byte* entry = _buffer + _offset;
            _offset += *(ushort*)(entry + 16);
            byte* name = entry + 19;
            if (name[0] == (byte)'.' && (name[1] == 0 || (name[1] == (byte)'.' && name[2] == 0)))
            {
                continue;
            }
            nameZ = name;
            return true;
        }
    }
}

internal static unsafe class NameZ
{
    public static ReadOnlySpan<byte> AsSpan(byte* nameZ) => MemoryMarshal.CreateReadOnlySpanFromNullTerminated(nameZ);

    /// <summary>Parses a NUL-terminated all-digit name; -1 when it is not a number.</summary>
    public static int ParsePid(byte* nameZ)
    {
        int value = 0;
        int i = 0;
        for (; nameZ[i] != 0; i++)
        {
            int d = nameZ[i] - '0';
            if ((uint)d > 9 || i >= 10)
            {
                return -1;
            }
            value = value * 10 + d;
        }
        return i == 0 ? -1 : value;
    }
}
