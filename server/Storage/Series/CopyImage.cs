using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace Fleet.Server.Storage.Series;

/// <summary>
/// Rows of one table in PostgreSQL's binary COPY format, built in memory and sent with one raw binary COPY
/// (<see cref="NpgsqlConnection.BeginRawBinaryCopyAsync"/>): the store encodes a whole batch this way, and the
/// benchmark's reference COPY sends images made by the same code. Values are written in the column order of
/// the COPY statement; each row must have exactly the image's column count.
/// </summary>
internal sealed class CopyImage : IDisposable
{
    // "PGCOPY\n\377\r\n\0"
    private static readonly byte[] Signature = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00];

    // Ticks from 0001-01-01 to PostgreSQL's epoch, 2000-01-01 (UTC).
    private const long PostgresEpochTicks = 630_822_816_000_000_000;
    private const uint Int8Oid = 20;
    private const byte PgsqlAfInet = 2;
    private const byte PgsqlAfInet6 = 3;

    // Strict like Npgsql: a string that is not valid UTF-16 fails (an ArgumentException) instead of being altered.
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly short _columns;
    private byte[] _buffer;
    private int _length;
    private int _fieldsInRow;
    private bool _completed;

    public CopyImage(int columns, int capacity = 64 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        _columns = checked((short)columns);
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 64));
        Signature.CopyTo(_buffer, 0);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(11), 0); // flags
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(15), 0); // header extension length
        _length = 19;
        _fieldsInRow = -1;
    }

    public int Rows { get; private set; }

    /// <summary>Bytes so far (the trailer is added by <see cref="Complete"/>).</summary>
    public int Length => _length;

    public void StartRow()
    {
        EndRow();
        Span(2, out var s);
        BinaryPrimitives.WriteInt16BigEndian(s, _columns);
        _fieldsInRow = 0;
        Rows++;
    }

    public void Write(int value)
    {
        var s = Field(4);
        BinaryPrimitives.WriteInt32BigEndian(s, value);
    }

    public void Write(long value)
    {
        var s = Field(8);
        BinaryPrimitives.WriteInt64BigEndian(s, value);
    }

    public void Write(short value)
    {
        var s = Field(2);
        BinaryPrimitives.WriteInt16BigEndian(s, value);
    }

    public void Write(float value)
    {
        var s = Field(4);
        BinaryPrimitives.WriteSingleBigEndian(s, value);
    }

    public void Write(bool value)
    {
        var s = Field(1);
        s[0] = value ? (byte)1 : (byte)0;
    }

    /// <summary>A timestamptz: microseconds since 2000-01-01 UTC (a UTC <see cref="DateTime"/>; below a microsecond is dropped).</summary>
    public void WriteTime(DateTime utc)
    {
        if (utc.Kind != DateTimeKind.Utc)
        {
            throw new ArgumentException("timestamptz values must be UTC", nameof(utc));
        }
        var s = Field(8);
        BinaryPrimitives.WriteInt64BigEndian(s, (utc.Ticks - PostgresEpochTicks) / 10);
    }

    public void Write(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int max = Utf8.GetMaxByteCount(value.Length);
        CountField();
        Span(4 + max, out var s);
        int written = Utf8.GetBytes(value, s[4..]);
        BinaryPrimitives.WriteInt32BigEndian(s, written);
        _length -= max - written;
    }

    /// <summary>An inet value (a host address: all bits), or NULL.</summary>
    public void Write(IPAddress? address)
    {
        if (address is null)
        {
            WriteNull();
            return;
        }
        bool v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        int bytes = v6 ? 16 : 4;
        var s = Field(4 + bytes);
        s[0] = v6 ? PgsqlAfInet6 : PgsqlAfInet;
        s[1] = (byte)(bytes * 8);
        s[2] = 0; // not cidr
        s[3] = (byte)bytes;
        if (!address.TryWriteBytes(s[4..], out int written) || written != bytes)
        {
            throw new ArgumentException($"'{address}' is not an IPv4 or IPv6 address", nameof(address));
        }
    }

    /// <summary>A one-dimensional bigint[] without NULLs (an empty array when there are no values).</summary>
    public void Write(ReadOnlySpan<long> values)
    {
        bool empty = values.IsEmpty;
        var s = Field(12 + (empty ? 0 : 8 + values.Length * 12));
        BinaryPrimitives.WriteInt32BigEndian(s, empty ? 0 : 1); // dimensions
        BinaryPrimitives.WriteInt32BigEndian(s[4..], 0); // no NULLs
        BinaryPrimitives.WriteUInt32BigEndian(s[8..], Int8Oid);
        if (empty)
        {
            return;
        }
        BinaryPrimitives.WriteInt32BigEndian(s[12..], values.Length);
        BinaryPrimitives.WriteInt32BigEndian(s[16..], 1); // lower bound
        var e = s[20..];
        foreach (long v in values)
        {
            BinaryPrimitives.WriteInt32BigEndian(e, 8);
            BinaryPrimitives.WriteInt64BigEndian(e[4..], v);
            e = e[12..];
        }
    }

    public void WriteNull()
    {
        CountField();
        Span(4, out var s);
        BinaryPrimitives.WriteInt32BigEndian(s, -1);
    }

    /// <summary>Ends the image (the trailer) and returns its bytes, valid until <see cref="Dispose"/>.</summary>
    public ReadOnlyMemory<byte> Complete()
    {
        if (!_completed)
        {
            EndRow();
            Span(2, out var s);
            BinaryPrimitives.WriteInt16BigEndian(s, -1);
            _completed = true;
        }
        return _buffer.AsMemory(0, _length);
    }

    /// <summary>Sends the image with one raw binary COPY (<paramref name="copySql"/>: COPY ... FROM STDIN (FORMAT BINARY)).</summary>
    public async Task CopyAsync(NpgsqlConnection connection, string copySql, CancellationToken ct)
    {
        var bytes = Complete();
        await using var copy = await connection.BeginRawBinaryCopyAsync(copySql, ct).ConfigureAwait(false);
        await copy.WriteAsync(bytes, ct).ConfigureAwait(false);
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void EndRow()
    {
        if (_fieldsInRow >= 0 && _fieldsInRow != _columns)
        {
            throw new InvalidOperationException($"a COPY row had {_fieldsInRow} values, {_columns} expected");
        }
    }

    private void CountField()
    {
        if (_fieldsInRow < 0 || _completed)
        {
            throw new InvalidOperationException("a value written outside a row");
        }
        _fieldsInRow++;
    }

    /// <summary>Room for a value of <paramref name="size"/> bytes after its length word; returns the value's span.</summary>
    private Span<byte> Field(int size)
    {
        CountField();
        Span(4 + size, out var s);
        BinaryPrimitives.WriteInt32BigEndian(s, size);
        return s[4..];
    }

    private void Span(int size, out Span<byte> span)
    {
        if (_length + size > _buffer.Length)
        {
            Grow(size);
        }
        span = _buffer.AsSpan(_length, size);
        _length += size;
    }

    private void Grow(int size)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + size));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
