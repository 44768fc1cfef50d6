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

    /// <summary>The errors in the order the series were added (paired with another score over the same series).</summary>
    public IReadOnlyList<double> Errors => _errors;

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

    /// <summary>
    /// Leaking families: Fleet's median error against each baseline's, judged against the run's Monte-Carlo error
    /// (<see cref="LowerShare"/>): better, a tie, or worse. Others: better with no false projection, or fewer
    /// false projections than both baselines.
    /// </summary>
    public Verdict Verdict
    {
        get
        {
            if (!Family.Leaks)
            {
                return Fleet.FalseRate == 0 || (Fleet.FalseRate < Plain.FalseRate && Fleet.FalseRate < Significant.FalseRate)
                    ? Verdict.Better : Verdict.Worse;
            }

            var (plain, significant) = (Compare(Plain), Compare(Significant));
            return plain == Verdict.Worse || significant == Verdict.Worse ? Verdict.Worse
                : plain == Verdict.Tie || significant == Verdict.Tie ? Verdict.Tie
                : Verdict.Better;
        }
    }

    /// <summary>
    /// Better when, in at least this share of the bootstrap replicates, Fleet's median error is the lower one;
    /// worse when in at most 1 − this share; a tie in between (a two-sided 95% paired bootstrap test).
    /// </summary>
    public const double BetterShare = 0.975;

    /// <summary>The share of the paired bootstrap replicates in which Fleet's median error is below the plain baseline's (equal counts half).</summary>
    public double PlainLowerShare => LowerShare(Fleet.Errors, Plain.Errors);

    private Verdict Compare(Score baseline)
    {
        var share = LowerShare(Fleet.Errors, baseline.Errors);
        return share >= BetterShare ? Verdict.Better : share <= 1 - BetterShare ? Verdict.Worse : Verdict.Tie;
    }

    /// <summary>
    /// The Monte-Carlo uncertainty of "which median is lower" over the same series: the series are resampled with
    /// replacement (both estimators' errors kept together, fixed seed so runs repeat) and the share of replicates
    /// where Fleet's median error is the lower is returned. Misses count as infinite errors, as in the table.
    /// </summary>
    public static double LowerShare(IReadOnlyList<double> fleet, IReadOnlyList<double> baseline)
    {
        var n = Math.Min(fleet.Count, baseline.Count);
        if (n == 0)
        {
            return 0.5;
        }

        var random = new Random(12345);
        const int Replicates = 1000;
        var lower = 0.0;
        for (var b = 0; b < Replicates; b++)
        {
            var indexes = Enumerable.Range(0, n).Select(_ => random.Next(n)).ToArray();
            var (f, o) = (Median(fleet, indexes), Median(baseline, indexes));
            lower += f < o ? 1 : f == o ? 0.5 : 0;
        }

        return lower / Replicates;
    }

    private static double Median(IReadOnlyList<double> values, IEnumerable<int> indexes)
    {
        var sorted = indexes.Select(i => values[i]).Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}

/// <summary>Fleet against the baselines on one family.</summary>
internal enum Verdict
{
    Worse,
    Tie,
    Better,
}
