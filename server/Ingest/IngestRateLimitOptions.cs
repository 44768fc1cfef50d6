using System.Globalization;

namespace Fleet.Server.Ingest;

/// <summary>
/// Rate limits of the ingest endpoint (configuration section <c>Fleet:Ingest:RateLimit</c>).
/// <para>
/// Snapshots, per agent id, a token bucket: <see cref="Burst"/> snapshots at once, refilled at
/// <see cref="SnapshotsPerSecond"/>. A stream over its rate is not refused: it waits for a permit before it reads the
/// next snapshot (back-pressure), so nothing is lost and the agent's in-flight window bounds what waits in memory.
/// The defaults never touch a normal agent (one snapshot per 10 s, at the fastest one per second, the shortest
/// interval the server hands out) and replay an agent's whole spool after an outage at 10 per second: the last
/// 100 snapshots (about 17 minutes at 10 s) at once, a full day's spool (8,640) in about 15 minutes.
/// </para>
/// <para>
/// Connection attempts (Connect calls), per client IP address, a token bucket: <see cref="ConnectBurst"/> at once,
/// refilled at <see cref="ConnectsPerMinute"/>; an attempt over the limit is refused at once with ResourceExhausted
/// before its token is looked at, and the agent backs off. The defaults let a hundred agents behind one address
/// reconnect together after a server restart, and hold a client that reconnects in a tight loop (or tries tokens)
/// to 5 attempts a second. Raise them for a larger fleet behind one NAT address.
/// </para>
/// </summary>
public sealed class IngestRateLimitOptions
{
    public const string Section = IngestOptions.Section + ":RateLimit";

    /// <summary>Snapshots one agent may send per second, sustained (fractions allowed: 0.5 is one every 2 s).</summary>
    public double SnapshotsPerSecond { get; set; } = 10;

    /// <summary>Snapshots one agent may send at once, before <see cref="SnapshotsPerSecond"/> applies.</summary>
    public int Burst { get; set; } = 100;

    /// <summary>Connection attempts one client address may make per minute, sustained.</summary>
    public double ConnectsPerMinute { get; set; } = 300;

    /// <summary>Connection attempts one client address may make at once.</summary>
    public int ConnectBurst { get; set; } = 100;

    public const double MinSnapshotsPerSecond = 0.001;
    public const double MaxSnapshotsPerSecond = 100_000;
    public const int MaxBurst = 1_000_000;
    public const double MinConnectsPerMinute = 0.1;
    public const double MaxConnectsPerMinute = 1_000_000;
    public const int MaxConnectBurst = 1_000_000;

    /// <summary>Every problem, each naming its key and what is allowed.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!double.IsFinite(SnapshotsPerSecond) || SnapshotsPerSecond is < MinSnapshotsPerSecond or > MaxSnapshotsPerSecond)
        {
            errors.Add(Invariant($"{Section}:SnapshotsPerSecond is {SnapshotsPerSecond}: allowed are {MinSnapshotsPerSecond} to {MaxSnapshotsPerSecond}"));
        }
        if (Burst is < 1 or > MaxBurst)
        {
            errors.Add(Invariant($"{Section}:Burst is {Burst}: allowed are 1 to {MaxBurst}"));
        }
        if (!double.IsFinite(ConnectsPerMinute) || ConnectsPerMinute is < MinConnectsPerMinute or > MaxConnectsPerMinute)
        {
            errors.Add(Invariant($"{Section}:ConnectsPerMinute is {ConnectsPerMinute}: allowed are {MinConnectsPerMinute} to {MaxConnectsPerMinute}"));
        }
        if (ConnectBurst is < 1 or > MaxConnectBurst)
        {
            errors.Add(Invariant($"{Section}:ConnectBurst is {ConnectBurst}: allowed are 1 to {MaxConnectBurst}"));
        }
        return errors;
    }

    /// <summary>
    /// A token bucket's refill for <paramref name="perSecond"/>: whole tokens (at most the burst, so none is lost to the
    /// cap) every period, the period at least a second while the rate allows, so a bucket's timer fires about once a
    /// second instead of once per token. 10 a second: 10 every second; 0.5: one every 2 s; 2.5: 3 every 1.2 s.
    /// </summary>
    internal static (int Tokens, TimeSpan Period) Refill(double perSecond, int burst)
    {
        int tokens = (int)Math.Clamp(Math.Ceiling(perSecond), 1, Math.Max(1, burst));
        return (tokens, TimeSpan.FromSeconds(tokens / perSecond));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
