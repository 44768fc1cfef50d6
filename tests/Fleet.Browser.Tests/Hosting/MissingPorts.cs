using Fleet.Server.Alerts;
using Fleet.Web.Data;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Fleet.Browser.Tests.Hosting;

/// <summary>
/// Registers the UI's ports the server does not (yet) register: the real alert rules and alerts (AddAlerts, over the
/// test's database) when the server has no <see cref="IAlertRules"/>; empty projections and channels otherwise missing.
/// Whatever the server registers itself is kept.
/// </summary>
internal static class MissingPorts
{
    public static void AddTo(IServiceCollection services, IConfiguration configuration)
    {
        if (!services.Any(d => d.ServiceType == typeof(IAlertRules)))
        {
            services.AddAlerts(configuration);
        }
        services.TryAddSingleton<IProjectionData, NoProjections>();
        services.TryAddSingleton<INotificationChannels, NoChannels>();
    }

    private sealed class NoProjections : IProjectionData
    {
        public Task<IReadOnlyList<ProjectionView>> HostAsync(string hostName, CancellationToken ct) => Task.FromResult<IReadOnlyList<ProjectionView>>([]);

        public Task<IReadOnlyList<ProjectionView>> ServiceAsync(string serviceName, CancellationToken ct) => Task.FromResult<IReadOnlyList<ProjectionView>>([]);

        public Task<IReadOnlyList<ProjectionView>> LeaksAsync(int limit, CancellationToken ct) => Task.FromResult<IReadOnlyList<ProjectionView>>([]);
    }

    private sealed class NoChannels : INotificationChannels
    {
        public Task<IReadOnlyList<NotificationChannel>> ListAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<NotificationChannel>>([]);

        public Task<NotificationChannel> CreateAsync(ChannelDraft draft, string actor, CancellationToken ct) =>
            throw new InvalidOperationException("notification channels are not part of this server yet");

        public Task<NotificationChannel?> UpdateAsync(long id, ChannelDraft draft, string actor, CancellationToken ct) =>
            throw new InvalidOperationException("notification channels are not part of this server yet");

        public Task<bool> DeleteAsync(long id, string actor, CancellationToken ct) => Task.FromResult(false);

        public Task<IReadOnlyList<DeliveryView>> DeliveriesAsync(long? channelId, int limit, CancellationToken ct) => Task.FromResult<IReadOnlyList<DeliveryView>>([]);
    }
}
