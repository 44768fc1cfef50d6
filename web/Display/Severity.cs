using MudBlazor;

namespace Fleet.Web.Display;

/// <summary>How worrying a figure is: use of a limit at or above 95% is an error, at or above 80% a warning.</summary>
public enum FigureSeverity
{
    Normal,
    Warning,
    Error,
}

public static class Severities
{
    public const double WarningPercent = 80;
    public const double ErrorPercent = 95;

    /// <summary>The severity of a use of a limit, in percent of it.</summary>
    public static FigureSeverity OfPercent(double percent) =>
        percent >= ErrorPercent ? FigureSeverity.Error
        : percent >= WarningPercent ? FigureSeverity.Warning
        : FigureSeverity.Normal;

    /// <summary>The severity of a headroom: what is used of max (unknown max is normal).</summary>
    public static FigureSeverity OfUse(ulong used, ulong max) => max == 0 ? FigureSeverity.Normal : OfPercent(Figures.PercentOf(used, max));

    public static Color Color(this FigureSeverity severity) => severity switch
    {
        FigureSeverity.Error => MudBlazor.Color.Error,
        FigureSeverity.Warning => MudBlazor.Color.Warning,
        _ => MudBlazor.Color.Success,
    };

    /// <summary>A text colour class: plain text when normal (a sea of green hides the red).</summary>
    public static string TextClass(this FigureSeverity severity) => severity switch
    {
        FigureSeverity.Error => "mud-error-text",
        FigureSeverity.Warning => "mud-warning-text",
        _ => "",
    };
}
