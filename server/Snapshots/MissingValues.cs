using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;

namespace Fleet.Server.Snapshots;

/// <summary>
/// Finds the nulls an imported document holds where the records say there cannot be one, inside lists included
/// (the JSON reader checks properties but not list elements): "snapshot.hosts[0].detail.processes[3]". Value types
/// hold no references and are not walked; raw tables are checked by the archive reader.
/// </summary>
internal static class MissingValues
{
    private const int MaxErrors = 10;
    private const int MaxDepth = 32;

    private static readonly ConcurrentDictionary<Type, (PropertyInfo Property, bool Nullable, bool ElementsNullable)[]> Properties = new();

    public static List<string> Find(object root, string path)
    {
        var errors = new List<string>();
        Walk(root, path, errors, 0);
        return errors;
    }

    private static void Walk(object value, string path, List<string> errors, int depth)
    {
        var type = value.GetType();
        if (errors.Count >= MaxErrors || depth > MaxDepth || type.IsValueType || value is string || value is RawTable || type.Namespace?.StartsWith("Fleet.", StringComparison.Ordinal) != true)
        {
            return;
        }
        foreach (var (property, nullable, elementsNullable) in Properties.GetOrAdd(type, Describe))
        {
            object? child = property.GetValue(value);
            string at = $"{path}.{JsonName(property.Name)}";
            if (child is null)
            {
                if (!nullable)
                {
                    errors.Add($"{at}: a value is required");
                }
                continue;
            }
            if (child is IEnumerable items and not string)
            {
                int i = 0;
                foreach (object? item in items)
                {
                    if (item is null)
                    {
                        if (!elementsNullable)
                        {
                            errors.Add($"{at}[{i}]: a value is required");
                        }
                    }
                    else
                    {
                        Walk(item, $"{at}[{i}]", errors, depth + 1);
                    }
                    if (errors.Count >= MaxErrors)
                    {
                        return;
                    }
                    i++;
                }
                continue;
            }
            Walk(child, at, errors, depth + 1);
        }
    }

    /// <summary>The stored properties (those with a setter or init, so not computed ones) and what may be null.</summary>
    private static (PropertyInfo, bool, bool)[] Describe(Type type)
    {
        var context = new NullabilityInfoContext();
        return
        [
            .. type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.CanWrite && p.GetIndexParameters().Length == 0 && p.GetMethod is not null)
                .Select(p =>
                {
                    var info = context.Create(p);
                    var element = info.ElementType ?? (info.GenericTypeArguments.Length == 1 ? info.GenericTypeArguments[0] : null);
                    return (p, info.ReadState != NullabilityState.NotNull, element is null || element.ReadState != NullabilityState.NotNull);
                }),
        ];
    }

    private static string JsonName(string name) => char.ToLowerInvariant(name[0]) + name[1..];
}
