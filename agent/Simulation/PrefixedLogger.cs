using Microsoft.Extensions.Logging;

namespace Fleet.Agent.Simulation;

/// <summary>Puts a simulated host's name in front of every message its agent logs.</summary>
internal sealed class PrefixedLogger(ILogger inner, string prefix) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        inner.Log(logLevel, eventId, state, exception, (s, e) => $"{prefix}: {formatter(s, e)}");
}
