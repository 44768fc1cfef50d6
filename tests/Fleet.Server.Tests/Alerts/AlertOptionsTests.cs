using Fleet.Server.Alerts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Tests.Alerts;

public sealed class AlertOptionsTests
{
    [Fact]
    public void BadSettings_AreAllReportedAtOnce_NamingTheKeyAndWhatIsAllowed()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Fleet:Alerts:TickInterval"] = "00:00:00",
            ["Fleet:Alerts:ProjectionInterval"] = "02:00:00",
            ["Fleet:Alerts:MaxQueuedHosts"] = "0",
        }).Build();
        var services = new ServiceCollection().AddLogging().AddAlerts(configuration).BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<AlertOptions>>().Value);

        Assert.Equal(
            ["Fleet:Alerts:TickInterval: between 00:00:01 and 01:00:00 (got 00:00:00)",
             "Fleet:Alerts:ProjectionInterval: between 00:00:01 and 01:00:00 (got 02:00:00)",
             "Fleet:Alerts:MaxQueuedHosts: between 1 and 1000000 (got 0)"],
            e.Failures);
    }

    [Fact]
    public void Defaults_AreValid()
    {
        var services = new ServiceCollection().AddLogging().AddAlerts(new ConfigurationBuilder().Build()).BuildServiceProvider();

        var options = services.GetRequiredService<IOptions<AlertOptions>>().Value;

        Assert.Equal((TimeSpan.FromSeconds(15), TimeSpan.FromMinutes(1)), (options.TickInterval, options.ProjectionInterval));
    }
}
