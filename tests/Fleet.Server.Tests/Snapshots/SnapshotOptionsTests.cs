using Fleet.Server.Snapshots;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Tests.Snapshots;

public sealed class SnapshotOptionsTests
{
    [Fact]
    public void AddSnapshots_NamesTheServerByItsPublicUrl_ElseByTheMachineName()
    {
        var named = Options(new() { ["Fleet:PublicUrl"] = "https://fleet.example.org" }).Value;
        var unnamed = Options([]).Value;

        Assert.Equal("https://fleet.example.org", named.ServerName);
        Assert.Equal(Environment.MachineName, unnamed.ServerName);
        Assert.Equal((SnapshotOptions.DefaultMaxRawRows, SnapshotOptions.DefaultMaxArchiveBytes), (unnamed.MaxRawRows, unnamed.MaxArchiveBytes));
    }

    [Fact]
    public void AddSnapshots_WithBadLimits_ListsEveryBadKey()
    {
        var options = Options(new() { ["Fleet:Snapshots:MaxRawRows"] = "0", ["Fleet:Snapshots:MaxArchiveBytes"] = "10", ["Fleet:Snapshots:MaxCompressionRatio"] = "0.5" });

        var e = Assert.Throws<OptionsValidationException>(() => options.Value);

        Assert.Contains(e.Failures, f => f.StartsWith("Fleet:Snapshots:MaxRawRows must be at least 1", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("Fleet:Snapshots:MaxArchiveBytes must be between 1024", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("Fleet:Snapshots:MaxCompressionRatio must be at least 1", StringComparison.Ordinal));
    }

    private static IOptions<SnapshotOptions> Options(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddSnapshots(configuration);
        return services.BuildServiceProvider().GetRequiredService<IOptions<SnapshotOptions>>();
    }
}
