using Fleet.Web.Data;

namespace Fleet.Web.Charts;

/// <summary>
/// The lines of one chart as the page holds them: loaded from a <see cref="SeriesSet"/>, grown by live summaries,
/// trimmed to the window. Gaps (null values) are kept out: a line is the samples it has.
/// </summary>
public sealed class LineSet
{
    private readonly List<Line> _lines = [];

    public IReadOnlyList<Line> Lines => _lines;

    /// <summary>Points over every line (what a chart's data-points attribute tells).</summary>
    public int PointCount => _lines.Sum(l => l.Points.Count);

    /// <summary>The sum over lines of each line's last value (what a chart's data-last attribute tells).</summary>
    public double LastSum => _lines.Where(l => l.Points.Count > 0).Sum(l => l.Points[^1].Value);

    public static LineSet From(SeriesSet? set, Func<string, bool>? include = null)
    {
        var lines = new LineSet();
        if (set is null)
        {
            return lines;
        }
        foreach (var series in set.Series)
        {
            if (include is not null && !include(series.Name))
            {
                continue;
            }
            var line = lines.Get(series.Name);
            foreach (var p in series.Points)
            {
                if (p.Value is { } v && double.IsFinite(v))
                {
                    line.Points.Add(new LinePoint(p.Time, v));
                }
            }
            line.Points.Sort((a, b) => a.Time.CompareTo(b.Time));
        }
        return lines;
    }

    /// <summary>One line named <paramref name="name"/> from every series of the set (a host-wide metric has one series).</summary>
    public static LineSet OneLine(SeriesSet? set, string name)
    {
        var lines = new LineSet();
        var line = lines.Get(name);
        foreach (var p in set?.Series.SelectMany(s => s.Points) ?? [])
        {
            if (p.Value is { } v && double.IsFinite(v))
            {
                line.Points.Add(new LinePoint(p.Time, v));
            }
        }
        line.Points.Sort((a, b) => a.Time.CompareTo(b.Time));
        lines._lines.RemoveAll(l => l.Points.Count == 0);
        return lines;
    }

    /// <summary>Adds a sample to the named line (made when new); a sample not after the line's last one replaces it or is ignored.</summary>
    public void Append(string name, DateTimeOffset time, double value)
    {
        if (!double.IsFinite(value))
        {
            return;
        }
        var points = Get(name).Points;
        if (points.Count > 0 && points[^1].Time >= time)
        {
            if (points[^1].Time == time)
            {
                points[^1] = new LinePoint(time, value);
            }
            return;
        }
        points.Add(new LinePoint(time, value));
    }

    /// <summary>Drops the points before <paramref name="from"/> (a live window moving on); lines left empty go too.</summary>
    public void TrimBefore(DateTimeOffset from)
    {
        foreach (var line in _lines)
        {
            var drop = 0;
            while (drop < line.Points.Count && line.Points[drop].Time < from)
            {
                drop++;
            }
            line.Points.RemoveRange(0, drop);
        }
        _lines.RemoveAll(l => l.Points.Count == 0);
    }

    private Line Get(string name)
    {
        foreach (var line in _lines)
        {
            if (string.Equals(line.Name, name, StringComparison.Ordinal))
            {
                return line;
            }
        }
        var made = new Line(name, []);
        _lines.Add(made);
        return made;
    }

    public sealed record Line(string Name, List<LinePoint> Points);

    public readonly record struct LinePoint(DateTimeOffset Time, double Value);
}
