using Fleet.Web.Data;
using Fleet.Web.Display;
using Fleet.Web.Tests.Fakes;

namespace Fleet.Web.Tests.Display;

public sealed class ProjectionTextsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(200, "in 3 h 20 min")]
    [InlineData(45, "in 45 min")]
    [InlineData(60 * 30 + 20, "in 1 d 6 h")]
    public void TimeToExhaustion_OfALeak_ReadsAsADuration(double minutes, string expected) =>
        Assert.Equal(expected, ProjectionTexts.TimeToExhaustion(ProjectionSamples.Leak("h", "s", Now, TimeSpan.FromMinutes(minutes))));

    [Fact]
    public void TimeToExhaustion_WithoutALeak_SaysWhy()
    {
        Assert.Equal("no leak", ProjectionTexts.TimeToExhaustion(ProjectionSamples.NoLeak("h", "s", Now)));
        Assert.Equal("not enough data", ProjectionTexts.TimeToExhaustion(ProjectionSamples.Insufficient("h", "s", Now)));
        Assert.Equal(ProjectionTexts.Unknown, ProjectionTexts.TimeToExhaustion(null));
        Assert.Equal("", ProjectionTexts.Seconds(ProjectionSamples.NoLeak("h", "s", Now)));
    }

    [Theory]
    [InlineData(42, "+42 fds/h")]
    [InlineData(0.4, "+0.4 fds/h")]
    [InlineData(-3, "-3 fds/h")]
    [InlineData(1500, "+1.5k fds/h")]
    public void Slope_IsSignedWithItsUnit(double perHour, string expected) => Assert.Equal(expected, ProjectionTexts.Slope(perHour));

    [Fact]
    public void Cadence_AndSocketLeak_ReadAsSentences()
    {
        var p = ProjectionSamples.Leak("h", "s", Now, TimeSpan.FromHours(5)) with
        {
            RestartCadence = TimeSpan.FromMinutes(241),
            SocketLeak = new SocketLeak("[2001:db8::7]:443", 10, 40, 0.9),
        };
        Assert.Equal("restarts every ~4 h 1 min", ProjectionTexts.Cadence(p));
        Assert.Equal("socket leak toward [2001:db8::7]:443", ProjectionTexts.SocketLeak(p));
        Assert.Null(ProjectionTexts.Cadence(p with { RestartCadence = null }));
    }

    [Fact]
    public void Severity_IsAnErrorUnderTwoHours_AWarningUnderADay()
    {
        Assert.Equal(FigureSeverity.Error, ProjectionTexts.Severity(ProjectionSamples.Leak("h", "s", Now, TimeSpan.FromMinutes(119))));
        Assert.Equal(FigureSeverity.Warning, ProjectionTexts.Severity(ProjectionSamples.Leak("h", "s", Now, TimeSpan.FromHours(23))));
        Assert.Equal(FigureSeverity.Normal, ProjectionTexts.Severity(ProjectionSamples.Leak("h", "s", Now, TimeSpan.FromHours(25))));
    }

    [Theory]
    [InlineData(AlertMetric.ServiceFdPercent, 87.4, "87%")]
    [InlineData(AlertMetric.ServiceCloseWait, 1234, "1.2k sockets")]
    [InlineData(AlertMetric.TimeToExhaustion, 3.5, "3.5 h")]
    [InlineData(AlertMetric.AgentOffline, 12, "12 min")]
    public void AlertValues_CarryTheirMetricsUnit(AlertMetric metric, double value, string expected) =>
        Assert.Equal(expected, AlertTexts.Value(metric, value));

    [Fact]
    public void AlertCondition_ReadsUnderForTimeToExhaustion() =>
        Assert.Equal("under 24 h", AlertTexts.Condition(AlertMetric.TimeToExhaustion, 24));
}

public sealed class AuditChangesTests
{
    [Fact]
    public void Update_ListsOnlyTheChangedFields_WithEnumsByName_AndWithoutBookkeeping()
    {
        var changes = AuditChanges.Of(
            """{"id":3,"draft":{"name":"fds","metric":1,"threshold":80},"updatedAt":"2026-11-28T09:00:00Z","updatedBy":"a"}""",
            """{"id":3,"draft":{"name":"fds","metric":4,"threshold":90},"updatedAt":"2026-11-28T10:00:00Z","updatedBy":"b"}""");

        Assert.Equal(
            [new AuditChanges.Change("draft.metric", "ServiceFdPercent", "TimeToExhaustion"), new AuditChanges.Change("draft.threshold", "80", "90")],
            changes);
    }

    [Fact]
    public void NotJson_GivesNull() => Assert.Null(AuditChanges.Of("{not json", null));
}
