using Fleet.Agent.Collection.Native;

namespace Fleet.Agent.Collection.Procfs;

/// <summary>
/// Reads a (possibly very large) /proc table line by line through one fixed buffer, so memory stays
/// bounded however many sockets a host has. A line longer than the buffer is skipped and counted.
/// </summary>
internal sealed unsafe class LineReader
{
    private readonly byte[] _buffer;
    private int _fd = -1;
    private int _start;
    private int _end;
    private bool _eof;

    public LineReader(int bufferSize = 64 * 1024) => _buffer = new byte[bufferSize];

    /// <summary>Lines skipped as too long since the last <see cref="Begin"/>.</summary>
    public int OverlongLines { get; private set; }

    /// <summary>Starts reading an already opened descriptor, which the reader then owns and closes.</summary>
    public void Begin(int fd)
    {
        End();
        _fd = fd;
        OverlongLines = 0;
        _start = 0;
        _end = 0;
        _eof = false;
    }

    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            int nl = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                line = _buffer.AsSpan(_start, nl);
                _start += nl + 1;
                return true;
            }
            if (_eof)
            {
                if (_end > _start)
                {
                    line = _buffer.AsSpan(_start, _end - _start);
                    _start = _end;
                    return true;
                }
                line = default;
                return false;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
            {
                // A line that does not fit: drop what we have up to the next newline.
                OverlongLines++;
                _end = 0;
                SkipToNewline();
                continue;
            }
            Fill();
        }
    }

    private void Fill()
    {
        nint n;
        fixed (byte* p = &_buffer[_end])
        {
            do
            {
                n = LibC.Read(_fd, p, (nuint)(_buffer.Length - _end));
            }
            while (n < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == LibC.EINTR);
        }
        if (n <= 0)
        {
            _eof = true;
        }
        else
        {
            _end += (int)n;
        }
    }

    private void SkipToNewline()
    {
        while (!_eof)
        {
            Fill();
            int nl = _buffer.AsSpan(0, _end).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                _start = nl + 1;
                return;
            }
            _end = 0;
        }
    }

    public void End()
    {
        if (_fd >= 0)
        {
            LibC.Close(_fd);
            _fd = -1;
        }
    }
}
