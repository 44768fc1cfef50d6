using MudBlazor;

namespace Fleet.Web.Components.Layout;

/// <summary>The dashboard's theme: dense, readable numbers; severity colours from the palette (success, warning, error).</summary>
public static class FleetTheme
{
    public static MudTheme Theme { get; } = new()
    {
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"] },
        },
    };
}
