namespace Fleet.Server.Storage.Entities;

/// <summary>
/// A service instance: one service name on one host (the series are kept per instance). Source is what the
/// name came from in the newest snapshot (Service.Source of the contract). First and last seen are snapshot
/// times; last seen is refreshed at most every <see cref="LastSeenResolution"/>, so it may lag by that much.
/// </summary>
public sealed class ServiceEntity
{
    public static readonly TimeSpan LastSeenResolution = TimeSpan.FromMinutes(5);

    public int Id { get; set; }

    public int HostId { get; set; }

    public HostEntity? Host { get; set; }

    public required string Name { get; set; }

    public short Source { get; set; }

    public DateTimeOffset FirstSeen { get; set; }

    public DateTimeOffset LastSeen { get; set; }
}
