using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Fleet.Server.Tests.EndToEnd;

/// <summary>
/// Keeps the log lines of the servers and agents of one test (Information and up, and every line of the
/// agents), to check what was logged and to show them in the test's output when it fails.
/// </summary>
internal sealed class LogSink : ILoggerProvider
{
    private const int MaxEntries = 20_000;

    private readonly ConcurrentQueue<LogEntry> _entries = new();
    private readonly long _started = TimeProvider.System.GetTimestamp();

    public IReadOnlyCollection<LogEntry> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new SinkLogger(this, categoryName);

    /// <summary>Lines whose event (the [LoggerMessage] method's name) is <paramref name="eventName"/>, from categories starting with <paramref name="categoryPrefix"/>.</summary>
    public int Count(string categoryPrefix, string eventName, string? containing = null) =>
        _entries.Count(e => e.Category.StartsWith(categoryPrefix, StringComparison.Ordinal)
            && e.EventName == eventName
            && (containing is null || e.Message.Contains(containing, StringComparison.Ordinal)));

    public void WriteTo(ITestOutputHelper output)
    {
        foreach (var e in _entries)
        {
            if (e.Level < LogLevel.Information)
            {
                continue;
            }
            // The first line only: some loggers (EF Core) put the whole stack trace into the message.
            int end = e.Message.IndexOf('\n', StringComparison.Ordinal);
            string message = end < 0 ? e.Message : e.Message[..end];
            string exception = e.Exception is null ? "" : $" | {e.Exception.GetType().Name}: {e.Exception.Message}";
            output.WriteLine($"{e.Elapsed.TotalSeconds,8:F3} {e.Level,-11} {e.Category}: {message}{exception}");
        }
    }

    public void Dispose()
    {
    }

    /// <summary>A line of the test's own (what it did, when).</summary>
    public void Note(string message) =>
        Add(new LogEntry(TimeProvider.System.GetElapsedTime(_started), "test", LogLevel.Information, null, message, null));

    private void Add(LogEntry entry)
    {
        if (_entries.Count < MaxEntries)
        {
            _entries.Enqueue(entry);
        }
    }

    internal sealed record LogEntry(TimeSpan Elapsed, string Category, LogLevel Level, string? EventName, string Message, Exception? Exception);

    private sealed class SinkLogger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            sink.Add(new LogEntry(TimeProvider.System.GetElapsedTime(sink._started), category, logLevel, eventId.Name, formatter(state, exception), exception));
    }
}
