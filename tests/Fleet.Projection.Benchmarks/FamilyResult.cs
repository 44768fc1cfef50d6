namespace Fleet.Projection.Benchmarks;

/// <summary>The scores of one estimator on one family.</summary>
internal sealed class Score
{
    private readonly List<double> _errors = [];
    private int _count;
    private int _missed;
    private int _false;

    /// <summary>Absolute percentage errors (infinite for a miss), only for leaking series.</summary>
    public void Add(double? trueHours, double? predictedHours)
    {
        _count++;
        if (trueHours is { } truth)
        {
            if (predictedHours is { } predicted)
            {
                _errors.Add(Math.Abs(predicted - truth) / truth);
            }
            else
            {
                _missed++;
                _errors.Add(double.PositiveInfinity);
            }
        }
        else if (predictedHours is not null)
        {
            _false++;
        }
    }

    public double MissRate => _count == 0 ? 0 : (double)_missed / _count;

    public double FalseRate => _count == 0 ? 0 : (double)_false / _count;

    public double Median() => Percentile(0.5);

    /// <summary>The median error over the leaking series that were given a time.</summary>
    public double HitsMedian()
    {
        var hits = _errors.Where(double.IsFinite).Order().ToArray();
        return hits.Length == 0 ? double.NaN : hits[hits.Length / 2];
    }

    public double Percentile(double p)
    {
        if (_errors.Count == 0)
        {
            return double.NaN;
        }

        var sorted = _errors.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(p * sorted.Length))];
    }
}

/// <summary>Fleet's and the baselines' scores on one family.</summary>
internal sealed class FamilyResult(Family family)
{
    public Family Family { get; } = family;

    public Score Fleet { get; } = new();

    public Score Plain { get; } = new();

    public Score Significant { get; } = new();

    /// <summary>The plain baseline's errors on the leaking series Fleet gave a time for (the same series as Fleet's hits).</summary>
    public Score PlainOnFleetHits { get; } = new();

    public void Add(double? trueHours, double? fleet, double? plain, double? significant)
    {
        if (trueHours is not null && fleet is not null)
        {
            PlainOnFleetHits.Add(trueHours, plain);
        }

        Fleet.Add(trueHours, fleet);
        Plain.Add(trueHours, plain);
        Significant.Add(trueHours, significant);
    }

    /// <summary>Leaking families: a lower median error than each baseline; others: fewer false projections, or none when the baseline has none either.</summary>
    public bool FleetBeatsBaselines => Family.Leaks
        ? Fleet.Median() < Plain.Median() && Fleet.Median() < Significant.Median()
        : Fleet.FalseRate == 0 || (Fleet.FalseRate < Plain.FalseRate && Fleet.FalseRate < Significant.FalseRate);
}
