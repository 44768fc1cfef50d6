using Fleet.Web.Charts;

namespace Fleet.Web.Tests.Display;

public sealed class GridStepTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(3, 1)]
    [InlineData(100, 25)]
    [InlineData(128, 50)]
    [InlineData(19_800, 5000)]
    [InlineData(333, 100)]
    public void GridStep_IsARoundNumberForAboutFourLines(double max, int expected) => Assert.Equal(expected, TimeChart.GridStep(max));
}
