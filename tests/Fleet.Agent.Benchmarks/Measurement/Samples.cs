namespace Fleet.Agent.Benchmarks.Measurement;

/// <summary>Repeated measurements of one thing. The machine is noisy: report the median and the minimum.</summary>
internal sealed class Samples
{
    private readonly List<double> _values = [];

    public int Count => _values.Count;

    public double Median
    {
        get
        {
            if (_values.Count == 0)
            {
                return double.NaN;
            }
            var sorted = _values.Order().ToList();
            int middle = sorted.Count / 2;
            return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        }
    }

    public double Min => _values.Count == 0 ? double.NaN : _values.Min();

    public double Max => _values.Count == 0 ? double.NaN : _values.Max();

    public void Add(double value) => _values.Add(value);

    /// <summary>Adds a duration in milliseconds.</summary>
    public void Add(TimeSpan duration) => _values.Add(duration.TotalMilliseconds);
}
