using System.Globalization;
using Fleet.Server.Projection;

namespace Fleet.Projection.Benchmarks;

/// <summary>Applies "Name=value" to a copy of <see cref="ProjectionOptions"/> (double, int, bool or TimeSpan properties), for sweeps.</summary>
internal static class OptionSetter
{
    /// <summary>The options the last successful <see cref="Apply"/> produced.</summary>
    public static ProjectionOptions? Last { get; private set; }

    /// <summary>Returns an error message, or null when applied (the result is in <see cref="Last"/>).</summary>
    public static string? Apply(ProjectionOptions options, string assignment)
    {
        var parts = assignment.Split('=', 2);
        var property = parts.Length == 2 ? typeof(ProjectionOptions).GetProperty(parts[0]) : null;
        if (property is null)
        {
            return $"--set expects Name=value with Name one of: {string.Join(", ", typeof(ProjectionOptions).GetProperties().Select(p => p.Name))}; got '{assignment}'.";
        }

        object value;
        try
        {
            value = property.PropertyType == typeof(TimeSpan)
                ? TimeSpan.Parse(parts[1], CultureInfo.InvariantCulture)
                : Convert.ChangeType(parts[1], property.PropertyType, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        {
            return $"--set {parts[0]}: '{parts[1]}' is not a {property.PropertyType.Name}.";
        }

        // Records copy with a clone; the init accessor is set through reflection on the copy only.
        var copy = options with { };
        property.SetValue(copy, value);
        Last = copy;
        return null;
    }
}
