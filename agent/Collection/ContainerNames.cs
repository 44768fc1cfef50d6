using System.Text;
using System.Text.Json;

namespace Fleet.Agent.Collection;

/// <summary>
/// Names containers and pods, which the cgroup path only knows by id: a Docker container by the name in
/// its config.v2.json, a Kubernetes pod by the HOSTNAME its processes were started with (the pod name
/// unless the pod uses the host network). Looked up once per container or pod and remembered.
/// </summary>
internal sealed class ContainerNames(string dockerRoot, string procRoot)
{
    private const int MaxCached = 4096;
    private const int MaxEnvironBytes = 256 * 1024;
    private readonly Dictionary<string, string> _containerNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Name, string Namespace)> _pods = new(StringComparer.Ordinal);

    public void Fill(CgroupDetails details, int pid)
    {
        if (details.KubernetesPodUid.Length > 0)
        {
            if (!_pods.TryGetValue(details.KubernetesPodUid, out var pod))
            {
                pod = ReadPodFromEnviron(pid);
                if (pod.Name.Length > 0)
                {
                    Remember(_pods, details.KubernetesPodUid, pod);
                }
            }
            details.KubernetesPodName = pod.Name;
            details.KubernetesNamespace = pod.Namespace;
        }
        else if (details.ContainerId.Length > 0 && dockerRoot.Length > 0)
        {
            if (!_containerNames.TryGetValue(details.ContainerId, out string? name))
            {
                name = ReadDockerName(details.ContainerId);
                Remember(_containerNames, details.ContainerId, name);
            }
            details.ContainerName = name;
        }
    }

    private static void Remember<T>(Dictionary<string, T> cache, string key, T value)
    {
        if (cache.Count >= MaxCached)
        {
            cache.Clear();
        }
        cache[key] = value;
    }

    private string ReadDockerName(string id)
    {
        string path = Path.Combine(dockerRoot, "containers", id, "config.v2.json");
        try
        {
            if (!File.Exists(path))
            {
                return "";
            }
            byte[] json = File.ReadAllBytes(path);
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            int depth = 0;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        depth++;
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        depth--;
                        break;
                    case JsonTokenType.PropertyName when depth == 1 && reader.ValueTextEquals("Name"u8):
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.String)
                        {
                            string name = reader.GetString() ?? "";
                            return Clean(name.TrimStart('/'));
                        }
                        return "";
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
        }
        return "";
    }

    private (string Name, string Namespace) ReadPodFromEnviron(int pid)
    {
        string path = $"{procRoot}/{pid}/environ";
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
            var buffer = new byte[MaxEnvironBytes];
            int total = 0;
            int n;
            while (total < buffer.Length && (n = stream.Read(buffer, total, buffer.Length - total)) > 0)
            {
                total += n;
            }
            string name = "";
            string ns = "";
            foreach (var range in buffer.AsSpan(0, total).Split((byte)0))
            {
                var entry = buffer.AsSpan(0, total)[range];
                if (entry.StartsWith("HOSTNAME="u8))
                {
                    name = Clean(Encoding.UTF8.GetString(entry[9..]));
                }
                else if (entry.StartsWith("POD_NAMESPACE="u8))
                {
                    ns = Clean(Encoding.UTF8.GetString(entry[14..]));
                }
            }
            return (name, ns);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ("", "");
        }
    }

    private static string Clean(string s) => Procfs.TextSanitizer.Clean(Encoding.UTF8.GetBytes(s), 253, out _);
}
