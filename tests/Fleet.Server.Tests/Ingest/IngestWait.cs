using System.Diagnostics;

namespace Fleet.Server.Tests.Ingest;

/// <summary>Waits for a condition with a deadline (never a sleep standing in for an assertion).</summary>
internal static class IngestWait
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    public static async Task UntilAsync(Func<bool> condition, Func<string> what, TimeSpan? deadline = null)
    {
        var limit = deadline ?? Deadline;
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > limit)
            {
                Assert.Fail($"not reached within {limit.TotalSeconds:F0} s: {what()}");
            }
            await Task.Delay(10);
        }
    }
}
