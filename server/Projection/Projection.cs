using Fleet.Web.Data;

namespace Fleet.Server.Projection;

/// <summary>One reading of a process's (or a service instance's) open fds.</summary>
/// <param name="Time">When the agent read it.</param>
/// <param name="OpenFds">Open file descriptors at that time.</param>
/// <param name="ProcessStart">The process's start time when known: a change marks a restart.</param>
public readonly record struct FdSample(DateTimeOffset Time, long OpenFds, DateTimeOffset? ProcessStart = null);

/// <summary>The projector's answer for one series.</summary>
/// <param name="Verdict">Leak, no leak, or not enough data.</param>
/// <param name="SlopePerHour">The robust slope of the current run, fds per hour (0 when not fitted).</param>
/// <param name="CurrentLevel">The fds the fitted line puts at "now".</param>
/// <param name="TimeToSoftLimit">Time from "now" until the soft limit at that slope; null unless a leak and the limit is finite.</param>
/// <param name="TimeToHardLimit">The same for the hard limit.</param>
/// <param name="Quality">In [0,1]. For a leak: the slope's significance, its persistence and the run's coverage
/// (6 h and 60 samples count fully), multiplied; for no leak: the coverage alone (how much data the verdict rests on);
/// 0 for insufficient data.</param>
/// <param name="RunStart">The first sample of the fitted run (after the last restart); null for an empty series.</param>
/// <param name="Restarts">Times of the restarts found, oldest first.</param>
/// <param name="RestartCadence">Median interval between restarts when they repeat (at least two found).</param>
/// <param name="Reason">Why the verdict, in one sentence a person can check against the chart.</param>
public sealed record Projection(
    LeakVerdict Verdict,
    double SlopePerHour,
    double CurrentLevel,
    TimeSpan? TimeToSoftLimit,
    TimeSpan? TimeToHardLimit,
    double Quality,
    DateTimeOffset? RunStart,
    IReadOnlyList<DateTimeOffset> Restarts,
    TimeSpan? RestartCadence,
    string Reason);

/// <summary>The projector's thresholds; the defaults are what the accuracy harness was tuned with.</summary>
public sealed record ProjectionOptions
{
    /// <summary>The fitted run must span at least this long.</summary>
    public TimeSpan MinRunDuration { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The fitted run must hold at least this many samples.</summary>
    public int MinSamples { get; init; } = 20;

    /// <summary>A restart is a sharp drop to below this fraction of the level just before it.</summary>
    public double RestartDropFraction { get; init; } = 0.5;

    /// <summary>Or a restart is a drop, between two readings, by this many times the reading-to-reading noise that gives back at least half of the rise since the run started.</summary>
    public double RestartDropInNoiseScales { get; init; } = 8;

    /// <summary>The level before and after a suspected drop is the median over this window (so a spike is not a restart).</summary>
    public TimeSpan RestartLevelWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// And a restart found from the fds alone (no start time) must fall below the steady level of the run over this
    /// window before the drop (the 10th percentile of its readings), so the end of a burst of load, which drops back
    /// to that level, is not taken for a restart. Zero turns the check off.
    /// </summary>
    public TimeSpan RestartSteadyWindow { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The stop and step tests fit least-squares lines to the buckets after clipping each to within four noise
    /// scales of the running median over 2 × this + 1 buckets, so a short burst of load does not bend them; 0 turns it off.
    /// </summary>
    public int BurstClipHalfWidth { get; init; } = 4;

    /// <summary>The slope must be this many standard errors above zero (the errors from the residuals' MAD, inflated for their correlation).</summary>
    public double MinSlopeStandardErrors { get; init; } = 3;

    /// <summary>And at least this many fds in absolute terms.</summary>
    public double MinRiseFds { get; init; } = 8;

    /// <summary>The slope after the best break of a two-segment line must not be significantly (<see cref="StopTestStandardErrors"/>) below this fraction of the slope before it.</summary>
    public double MinRecentSlopeRatio { get; init; } = 0.5;

    /// <summary>No longer used: the stop test (<see cref="StopTestStandardErrors"/>) replaced the last-half ratio, which took leaks under correlated noise for stopped ones. Kept so callers that set it still compile.</summary>
    public double MinHalfSlopeRatio { get; init; } = 0.4;

    /// <summary>Long runs are reduced to at most this many time buckets (median time, median fds) before the pairwise slopes.</summary>
    public int MaxBuckets { get; init; } = 240;

    /// <summary>The two-segment stop test: a rise has stopped when the slope after the best break is this many standard errors below <see cref="MinRecentSlopeRatio"/> × the slope before it.</summary>
    public double StopTestStandardErrors { get; init; } = 1.75;

    /// <summary>The slope within the two segments of the best split (a jump allowed between them) must be this many standard errors above zero, and rise by <see cref="MinRiseFds"/> over the run, or the rise was a one-off step.</summary>
    public double StepTestStandardErrors { get; init; } = 2;

    /// <summary>
    /// When the stop test finds a stop, its bar is raised to this quantile of the same statistic over replicates of a
    /// continuing line under the run's own noise (an AR(1) fitted to the break fit's residuals), which counts the
    /// search over breaks and the noise's correlation; 0 replicates keeps the fixed bar alone.
    /// </summary>
    public int StopTestBootstrapReplicates { get; init; } = 100;

    /// <summary>The quantile of the replicates' stop statistic that a stop must exceed (see <see cref="StopTestBootstrapReplicates"/>).</summary>
    public double StopTestBootstrapQuantile { get; init; } = 0.95;

    /// <summary>
    /// Once a leak is found and the bucket residuals' lag-one correlation is below this, its slope and level come
    /// from least squares over the run's readings within four noise scales of the robust line (more efficient than
    /// the robust line under plain noise; spikes stay out). Under strongly correlated noise the robust line was the
    /// more accurate in the harness, so it is kept. 0 always keeps the robust (Theil–Sen) line.
    /// </summary>
    public double EfficientFitMaxCorrelation { get; init; } = 0.3;


    /// <summary>
    /// When the step or stop test refuses a rise, the models are compared with AR(1)-plus-white errors (exact Gaussian
    /// likelihood, BIC): a straight line that beats a flat level, a one-off step, a rise that stopped and (over 20 h
    /// or more) a daily cycle by at least this margin overrules the refusal. Positive infinity turns it off.
    /// </summary>
    public double ModelComparisonMargin { get; init; } = 2;

    /// <summary>
    /// Once a leak is found and the bucket residuals' lag-one correlation is at least <see cref="EfficientFitMaxCorrelation"/>,
    /// its slope and level come from the regression with AR(1)-plus-white errors instead of the robust line.
    /// </summary>
    public bool CorrelatedNoiseRegression { get; init; } = true;
}
