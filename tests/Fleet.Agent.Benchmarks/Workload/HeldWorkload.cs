using System.Globalization;
using Fleet.Agent.Benchmarks.Procfs;

namespace Fleet.Agent.Benchmarks.Workload;

/// <summary>
/// The workload the agent is measured on: server and client holders keeping fds and loopback TCP
/// connections open. Built once, changed a little between repeated collections, killed on dispose
/// (and on process exit, should the runner be stopped).
/// </summary>
internal sealed class HeldWorkload : IDisposable
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(2);

    private readonly List<Holder> _servers = [];
    private readonly List<Holder> _clients = [];
    private readonly List<int> _closeWaitPorts = [];
    private readonly List<int> _establishedPorts = [];
    private readonly EventHandler _onExit;

    private HeldWorkload(WorkloadPlan plan, LoopbackSettings settings)
    {
        Plan = plan;
        Settings = settings;
        _onExit = (_, _) => Dispose();
        AppDomain.CurrentDomain.ProcessExit += _onExit;
    }

    public WorkloadPlan Plan { get; }

    public LoopbackSettings Settings { get; }

    public IReadOnlyList<Holder> Clients => _clients;

    public IEnumerable<Holder> Holders => _servers.Concat(_clients);

    /// <summary>Remote endpoints the clients' CLOSE_WAIT sockets point at.</summary>
    public IReadOnlyList<int> CloseWaitPorts => _closeWaitPorts;

    /// <summary>Remote endpoints of the clients' ESTABLISHED connections.</summary>
    public IReadOnlyList<int> EstablishedPorts => _establishedPorts;

    public static async Task<HeldWorkload> BuildAsync(WorkloadPlan plan, string holderExecutable, string scratch, TextWriter log)
    {
        var settings = LoopbackSettings.Read();
        settings.Check(plan);
        var workload = new HeldWorkload(plan, settings);
        try
        {
            await workload.StartServersAsync(holderExecutable);
            string heldFile = Path.Combine(scratch, "held-file");
            await File.WriteAllTextAsync(heldFile, "opened many times by every client holder\n");
            log.WriteLine($"  connecting {plan.Clients} client holders to {workload._closeWaitPorts.Count + workload._establishedPorts.Count} loopback listeners");
            await workload.StartClientsAsync(holderExecutable, heldFile);
            return workload;
        }
        catch
        {
            workload.Dispose();
            throw;
        }
    }

    private async Task StartServersAsync(string holderExecutable)
    {
        for (int i = 0; i < Plan.Servers; i++)
        {
            var server = Holder.Start($"server {i + 1}", holderExecutable,
            [
                "server",
                Plan.CloseListenersPerServer.ToString(CultureInfo.InvariantCulture),
                Plan.KeepListenersPerServer.ToString(CultureInfo.InvariantCulture),
                Plan.ServerNofile.ToString(CultureInfo.InvariantCulture),
            ]);
            _servers.Add(server);
            // "ports close=P,P keep=P,P"
            string line = await server.ReadLineAsync(Holder.CommandTimeout);
            foreach (string part in line.Split(' ').Skip(1))
            {
                var ports = part[(part.IndexOf('=', StringComparison.Ordinal) + 1)..]
                    .Split(',', StringSplitOptions.RemoveEmptyEntries)
                    .Select(p => int.Parse(p, CultureInfo.InvariantCulture));
                (part.StartsWith("close=", StringComparison.Ordinal) ? _closeWaitPorts : _establishedPorts).AddRange(ports);
            }
        }
    }

    private async Task StartClientsAsync(string holderExecutable, string heldFile)
    {
        for (int i = 0; i < Plan.Clients; i++)
        {
            var arguments = new List<string>
            {
                "client",
                $"nofile={Plan.ClientNofile}",
                $"files={heldFile}:{Plan.FilesPerClient}",
                $"pipes={Plan.PipesPerClient}",
                $"eventfds={Plan.EventfdsPerClient}",
            };
            arguments.AddRange(WorkloadPlan.Spread(Plan.CloseWaitPerClient, _closeWaitPorts).Select(e => $"cw={e.Port}:{e.Count}"));
            arguments.AddRange(WorkloadPlan.Spread(Plan.EstablishedPerClient, _establishedPorts).Select(e => $"est={e.Port}:{e.Count}"));
            _clients.Add(Holder.Start($"client {i + 1}", holderExecutable, arguments));
        }
        foreach (var client in _clients)
        {
            string line = await client.ReadLineAsync(BuildTimeout);
            if (line != "ready")
            {
                throw new SetupException($"{client.Name} answered '{line}' instead of 'ready'");
            }
        }
    }

    /// <summary>Closes and reconnects a few of the client's sockets under the same fd numbers; returns its account.</summary>
    public Task<ProcessFigures> ChurnAsync(Holder client) => client.ChurnAsync(Plan.ChurnPerState);

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= _onExit;
        foreach (var holder in Holders)
        {
            holder.Dispose();
        }
    }
}
