namespace Fleet.Web.Compare;

/// <summary>How a comparison is asked for in a URL: hosts=a&amp;hosts=b (each value may also be a comma-separated list).</summary>
public static class CompareQuery
{
    /// <summary>The distinct host names of the query's hosts values, in order, without blanks.</summary>
    public static IReadOnlyList<string> Hosts(IEnumerable<string?>? values) =>
        [.. (values ?? []).SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal)];
}
