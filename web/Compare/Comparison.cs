using Fleet.Web.Data;

namespace Fleet.Web.Compare;

/// <summary>
/// Builds a <see cref="CompareView"/> from host views read for one window (pure): per-host totals (or one service's
/// instance lines) on the hosts' common grid, the settings table with differences marked, and known trouble.
/// Skeleton of the contract: helper C implements it.
/// </summary>
public static class Comparison
{
    /// <param name="hosts">The hosts' views for <paramref name="window"/>, in the order the user chose them.</param>
    /// <param name="service">Null to compare hosts; a service name to compare its instances on those hosts.</param>
    /// <param name="window">The window the views were read for.</param>
    /// <param name="missingHosts">Hosts asked for that sent no snapshot (shown as such).</param>
    public static CompareView Of(IReadOnlyList<HostView> hosts, string? service, TimeWindow window, IReadOnlyList<string> missingHosts) =>
        throw new NotImplementedException("helper C");
}
