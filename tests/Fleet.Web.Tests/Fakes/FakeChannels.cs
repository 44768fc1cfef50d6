using Fleet.Web.Data;

namespace Fleet.Web.Tests.Fakes;

/// <summary>Channels kept in memory, validated like the server does; the delivery log is what the test sets.</summary>
public sealed class FakeChannels(TimeProvider time) : INotificationChannels
{
    private readonly Lock _gate = new();
    private readonly List<NotificationChannel> _channels = [];
    private long _nextId = 1;

    public List<(string Action, long? Id, ChannelDraft? Draft, string Actor)> Calls { get; } = [];

    public List<DeliveryView> Deliveries { get; } = [];

    public NotificationChannel Add(ChannelDraft draft)
    {
        lock (_gate)
        {
            var channel = new NotificationChannel(_nextId++, draft, time.GetUtcNow(), "seed");
            _channels.Add(channel);
            return channel;
        }
    }

    public Task<IReadOnlyList<NotificationChannel>> ListAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<NotificationChannel>>([.. _channels]);
        }
    }

    public Task<NotificationChannel> CreateAsync(ChannelDraft draft, string actor, CancellationToken ct)
    {
        lock (_gate)
        {
            Calls.Add(("create", null, draft, actor));
            if (draft.Validate() is { Count: > 0 } errors)
            {
                throw new ChannelInvalidException(errors);
            }
            var channel = new NotificationChannel(_nextId++, draft, time.GetUtcNow(), actor);
            _channels.Add(channel);
            return Task.FromResult(channel);
        }
    }

    public Task<NotificationChannel?> UpdateAsync(long id, ChannelDraft draft, string actor, CancellationToken ct)
    {
        lock (_gate)
        {
            Calls.Add(("update", id, draft, actor));
            var i = _channels.FindIndex(c => c.Id == id);
            if (i < 0)
            {
                return Task.FromResult<NotificationChannel?>(null);
            }
            _channels[i] = _channels[i] with { Draft = draft, UpdatedAt = time.GetUtcNow(), UpdatedBy = actor };
            return Task.FromResult<NotificationChannel?>(_channels[i]);
        }
    }

    public Task<bool> DeleteAsync(long id, string actor, CancellationToken ct)
    {
        lock (_gate)
        {
            Calls.Add(("delete", id, null, actor));
            return Task.FromResult(_channels.RemoveAll(c => c.Id == id) > 0);
        }
    }

    public Task<IReadOnlyList<DeliveryView>> DeliveriesAsync(long? channelId, int limit, CancellationToken ct)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<DeliveryView>>([.. Deliveries.Where(d => channelId is null || d.ChannelId == channelId).Take(limit)]);
        }
    }
}
