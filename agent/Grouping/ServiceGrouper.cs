using System.Text.RegularExpressions;
using Fleet.Agent.Collection;
using Fleet.Contracts.V1;

namespace Fleet.Agent.Grouping;

/// <summary>
/// Puts each process into a service. Configured rules come first (the first whose regular expression
/// matches comm, exe or cmdline names the service, capture groups usable in the name); otherwise the
/// Kubernetes pod's workload, else the container, else the systemd unit, else the executable name.
/// </summary>
internal sealed partial class ServiceGrouper
{
    /// <summary>A rule's pattern may not run away on a hostile command line.</summary>
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(50);

    private readonly IReadOnlyList<CompiledRule> _rules;

    public ServiceGrouper(IEnumerable<GroupingRule>? rules = null)
    {
        var compiled = new List<CompiledRule>();
        int index = 0;
        foreach (var rule in rules ?? [])
        {
            compiled.Add(CompiledRule.Create(rule, index++));
        }
        _rules = compiled;
    }

    public void Assign(IEnumerable<ProcessRecord> processes)
    {
        foreach (var p in processes)
        {
            (p.Service, p.ServiceSource) = Name(p);
        }
    }

    public (string Name, ServiceSource Source) Name(ProcessRecord p)
    {
        foreach (var rule in _rules)
        {
            if (rule.TryName(p) is { Length: > 0 } named)
            {
                return (named, ServiceSource.Rule);
            }
        }
        var cg = p.Cgroup;
        if (cg.KubernetesPodUid.Length > 0)
        {
            string pod = cg.KubernetesPodName.Length > 0 ? WorkloadOfPod(cg.KubernetesPodName) : "pod-" + cg.KubernetesPodUid[..Math.Min(8, cg.KubernetesPodUid.Length)];
            return (cg.KubernetesNamespace.Length > 0 ? $"{cg.KubernetesNamespace}/{pod}" : pod, ServiceSource.Kubernetes);
        }
        if (cg.ContainerId.Length > 0)
        {
            string name = cg.ContainerName.Length > 0 ? WithoutReplicaSuffix(cg.ContainerName) : cg.ContainerId[..Math.Min(12, cg.ContainerId.Length)];
            return (name, ServiceSource.Container);
        }
        if (cg.SystemdUnit.Length > 0)
        {
            return (cg.SystemdUnit, ServiceSource.Systemd);
        }
        return (ExecutableName(p), ServiceSource.Executable);
    }

    /// <summary>The executable's file name (without " (deleted)"), else comm.</summary>
    public static string ExecutableName(ProcessRecord p)
    {
        string exe = p.Exe;
        if (exe.StartsWith("/memfd:", StringComparison.Ordinal))
        {
            // Executed from a memfd: the file name says nothing, the comm does.
            exe = "";
        }
        if (exe.EndsWith(" (deleted)", StringComparison.Ordinal))
        {
            exe = exe[..^" (deleted)".Length];
        }
        int slash = exe.LastIndexOf('/');
        string name = slash >= 0 ? exe[(slash + 1)..] : exe;
        return name.Length > 0 ? name : p.Comm.Length > 0 ? p.Comm : $"pid-{p.Pid}";
    }

    // checkout-7d9f8b6c4-x2k9p (Deployment), web-0 (StatefulSet), agent-x2k9p (DaemonSet, Job).
    [GeneratedRegex(@"^(?<w>.+?)(?:-[bcdfghjklmnpqrstvwxz2456789]{6,10})?-[bcdfghjklmnpqrstvwxz2456789]{5}$", RegexOptions.CultureInvariant)]
    private static partial Regex GeneratedPodName();

    [GeneratedRegex(@"^(?<w>.+)-\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex OrdinalPodName();

    /// <summary>The workload a pod belongs to, from the names Kubernetes generates for its pods.</summary>
    public static string WorkloadOfPod(string pod)
    {
        var generated = GeneratedPodName().Match(pod);
        if (generated.Success)
        {
            return generated.Groups["w"].Value;
        }
        var ordinal = OrdinalPodName().Match(pod);
        return ordinal.Success ? ordinal.Groups["w"].Value : pod;
    }

    [GeneratedRegex(@"^(?<s>.+?)[-_]\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex ReplicaSuffix();

    /// <summary>Compose names replicas project-web-1, project-web-2: both are the service project-web.</summary>
    public static string WithoutReplicaSuffix(string container)
    {
        var m = ReplicaSuffix().Match(container);
        return m.Success ? m.Groups["s"].Value : container;
    }

    private sealed class CompiledRule(GroupingRule.Types.Field field, Regex pattern, string template)
    {
        public static CompiledRule Create(GroupingRule rule, int index)
        {
            if (rule.Field == GroupingRule.Types.Field.Unspecified)
            {
                throw new GroupingRuleException(index, "field", "must be comm, exe or cmdline");
            }
            if (string.IsNullOrEmpty(rule.ServiceTemplate))
            {
                throw new GroupingRuleException(index, "service_template", "must not be empty");
            }
            Regex regex;
            try
            {
                regex = new Regex(rule.Pattern, RegexOptions.CultureInvariant, MatchTimeout);
            }
            catch (ArgumentException e)
            {
                throw new GroupingRuleException(index, "pattern", e.Message);
            }
            return new CompiledRule(rule.Field, regex, rule.ServiceTemplate);
        }

        public string? TryName(ProcessRecord p)
        {
            string input = field switch
            {
                GroupingRule.Types.Field.Comm => p.Comm,
                GroupingRule.Types.Field.Exe => p.Exe,
                _ => p.Cmdline,
            };
            try
            {
                var m = pattern.Match(input);
                return m.Success ? m.Result(template).Trim() : null;
            }
            catch (RegexMatchTimeoutException)
            {
                return null;
            }
        }
    }
}

/// <summary>A configured grouping rule that cannot be used, naming which one and why.</summary>
internal sealed class GroupingRuleException(int index, string field, string reason)
    : Exception($"grouping_rules[{index}].{field}: {reason}");
