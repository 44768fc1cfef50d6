using Fleet.Server.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Tests.Storage;

public sealed class StorageOptionsTests
{
    [Fact]
    public void Validate_Defaults_Succeeds()
    {
        Assert.True(new ValidateStorageOptions().Validate(null, new StorageOptions()).Succeeded);
    }

    [Fact]
    public void Validate_ManyWrongSettings_ListsEveryOneWithItsKey()
    {
        var options = new StorageOptions
        {
            RawRetentionDays = 0,
            MinuteRollupRetentionDays = 10,
            HourRollupRetentionDays = 5,
            PartitionDaysAhead = 0,
            TopProcesses = -1,
            RollupInterval = TimeSpan.Zero,
        };

        var result = new ValidateStorageOptions().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal(5, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.StartsWith("Fleet:Storage:RawRetentionDays must be between 1 and 3650", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Fleet:Storage:PartitionDaysAhead", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Fleet:Storage:TopProcesses", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Fleet:Storage:RollupInterval", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Fleet:Storage:HourRollupRetentionDays (5) must be at least MinuteRollupRetentionDays (10)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HostStart_WithWrongStorageSettings_StopsWithEveryError()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Fleet"] = "Host=127.0.0.1;Port=1;Database=none",
            ["Fleet:Storage:RawRetentionDays"] = "40",
            ["Fleet:Storage:TopProcesses"] = "0",
        });
        builder.Services.AddFleetStorage(builder.Configuration);
        using var host = builder.Build();

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(StorageHarness.Timeout));

        Assert.Equal(2, e.Failures.Count());
        Assert.Contains(e.Failures, f => f.Contains("MinuteRollupRetentionDays (30) must be at least RawRetentionDays (40)", StringComparison.Ordinal));
    }

    [Fact]
    public void AddFleetStorage_WithoutConnectionString_SaysWhichKeyIsMissing()
    {
        var services = new ServiceCollection().AddLogging().AddFleetStorage(new ConfigurationBuilder().Build()).BuildServiceProvider();

        var e = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<Npgsql.NpgsqlDataSource>());

        Assert.Contains("ConnectionStrings:Fleet", e.Message, StringComparison.Ordinal);
    }
}
