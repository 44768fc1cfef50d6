using System.Globalization;

namespace Fleet.Agent.Benchmarks.Workload;

/// <summary>The kernel settings that decide whether thousands of loopback connections can be made and kept.</summary>
internal sealed record LoopbackSettings(int PortRangeLow, int PortRangeHigh, int Somaxconn)
{
    public int EphemeralPorts => PortRangeHigh - PortRangeLow + 1;

    public static LoopbackSettings Read()
    {
        int[] range = ReadNumbers("/proc/sys/net/ipv4/ip_local_port_range");
        return new LoopbackSettings(
            range[0],
            range[1],
            ReadNumbers("/proc/sys/net/core/somaxconn")[0]);
    }

    /// <summary>
    /// Every client connection takes an ephemeral port (churn leaves a few more in TIME_WAIT), and the
    /// listeners' backlog (capped by somaxconn) must take one pending connect per client at a time.
    /// </summary>
    public void Check(WorkloadPlan plan)
    {
        int connections = plan.Clients * (plan.CloseWaitPerClient + plan.EstablishedPerClient);
        if (connections + 1000 > EphemeralPorts)
        {
            throw new SetupException(
                $"net.ipv4.ip_local_port_range {PortRangeLow}-{PortRangeHigh} gives {EphemeralPorts} ports; the workload needs {connections} and some room");
        }
        if (Somaxconn < plan.Clients)
        {
            throw new SetupException($"net.core.somaxconn {Somaxconn} is below the {plan.Clients} connects that can be pending at once");
        }
    }

    public override string ToString() =>
        $"ip_local_port_range {PortRangeLow}-{PortRangeHigh}, somaxconn {Somaxconn}";

    private static int[] ReadNumbers(string path) =>
        File.ReadAllText(path)
            .Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries)
            .Select(n => int.Parse(n, CultureInfo.InvariantCulture))
            .ToArray();
}
