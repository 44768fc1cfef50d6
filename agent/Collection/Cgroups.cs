using System.Text.RegularExpressions;

namespace Fleet.Agent.Collection;

/// <summary>
/// Reads container, Kubernetes pod and systemd unit out of /proc/PID/cgroup, for cgroup v2 ("0::/path")
/// and v1 (several "N:controllers:/path" lines; the name=systemd or pids hierarchy is used), for Docker,
/// containerd, CRI-O and Podman layouts under systemd or cgroupfs drivers.
/// </summary>
internal static partial class Cgroups
{
    // docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope, libpod-<id>.scope, or a bare /docker/<id>.
    [GeneratedRegex(@"^(?:(?<rt>docker|cri-containerd|crio|libpod|containerd)-)?(?<id>[0-9a-f]{64})(?:\.scope)?$", RegexOptions.CultureInvariant)]
    private static partial Regex ContainerSegment();

    // kubepods-burstable-pod0a1b2c3d_4e5f_....slice (systemd driver) or pod0a1b2c3d-4e5f-... (cgroupfs driver).
    [GeneratedRegex(@"^(?:kubepods(?:-[a-z]+)*-)?pod(?<uid>[0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$", RegexOptions.CultureInvariant)]
    private static partial Regex PodSegment();

    public static CgroupDetails Parse(string cgroupFile)
    {
        string path = PickPath(cgroupFile);
        if (path.Length == 0)
        {
            return CgroupDetails.Empty;
        }
        string containerId = "";
        string runtime = "";
        string podUid = "";
        string unit = "";
        string[] segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < segments.Length; i++)
        {
            string seg = segments[i];
            var pod = PodSegment().Match(seg);
            if (pod.Success)
            {
                podUid = pod.Groups["uid"].Value.Replace('_', '-');
                continue;
            }
            var container = ContainerSegment().Match(seg);
            if (container.Success)
            {
                containerId = container.Groups["id"].Value;
                string rt = container.Groups["rt"].Value;
                runtime = rt switch
                {
                    "docker" => "docker",
                    "cri-containerd" or "containerd" => "containerd",
                    "crio" => "cri-o",
                    "libpod" => "podman",
                    _ => i > 0 && segments[i - 1] == "docker" ? "docker" : podUid.Length > 0 ? "cri" : "",
                };
                continue;
            }
            if (IsServiceUnit(seg))
            {
                unit = seg;
            }
        }
        return new CgroupDetails(path, containerId, runtime, podUid, containerId.Length > 0 || podUid.Length > 0 ? "" : unit);
    }

    /// <summary>A systemd unit that names a service: not a slice, not a login session or user manager scope.</summary>
    private static bool IsServiceUnit(string seg)
    {
        if (seg.StartsWith("session-", StringComparison.Ordinal) || seg.StartsWith("user@", StringComparison.Ordinal)
            || seg.StartsWith("user-", StringComparison.Ordinal))
        {
            return false;
        }
        return seg.EndsWith(".service", StringComparison.Ordinal) || seg.EndsWith(".scope", StringComparison.Ordinal) && seg != "init.scope";
    }

    /// <summary>The v2 path when there is one, else the v1 name=systemd path, else the first v1 path.</summary>
    private static string PickPath(string cgroupFile)
    {
        string v1Systemd = "";
        string v1Any = "";
        foreach (var raw in cgroupFile.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int first = raw.IndexOf(':', StringComparison.Ordinal);
            int second = first < 0 ? -1 : raw.IndexOf(':', first + 1);
            if (second < 0)
            {
                continue;
            }
            string controllers = raw[(first + 1)..second];
            string path = raw[(second + 1)..].Trim();
            if (raw.StartsWith("0::", StringComparison.Ordinal) && path != "/")
            {
                return path;
            }
            if (controllers == "name=systemd")
            {
                v1Systemd = path;
            }
            else if (v1Any.Length == 0 && path != "/")
            {
                v1Any = path;
            }
        }
        return v1Systemd.Length > 0 && v1Systemd != "/" ? v1Systemd : v1Any;
    }
}
