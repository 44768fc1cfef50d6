using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fleet.Server.Tests.Notifications;

/// <summary>One request a receiver got, with the fake clock's time it arrived at.</summary>
internal sealed record RecordedRequest(string Method, string Path, string? ContentType, string? UserAgent, string Body, DateTimeOffset At, int Answered);

/// <summary>
/// A real HTTP receiver (Kestrel on 127.0.0.1, port 0) that records every request and answers 200, or the statuses
/// it was told to answer first.
/// </summary>
internal sealed class RecordingListener : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TimeProvider _clock;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentQueue<int> _answers = new();
    private int? _always;
    private int _hang;

    private RecordingListener(WebApplication app, TimeProvider clock)
    {
        _app = app;
        _clock = clock;
    }

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public static async Task<RecordingListener> StartAsync(TimeProvider clock)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var listener = new RecordingListener(app, clock);
        app.Run(listener.HandleAsync);
        await app.StartAsync().WaitAsync(NotificationHarness.Timeout);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        listener.BaseAddress = new Uri(address.TrimEnd('/') + "/");
        return listener;
    }

    public Uri Url(string path) => new(BaseAddress, path);

    /// <summary>Answers <paramref name="status"/> to the next <paramref name="times"/> requests (then 200).</summary>
    public void AnswerNext(int status, int times)
    {
        for (int i = 0; i < times; i++)
        {
            _answers.Enqueue(status);
        }
    }

    public void AnswerAlways(int status) => _always = status;

    /// <summary>The next <paramref name="times"/> requests get no answer until the caller gives up.</summary>
    public void HangNext(int times) => _hang = times;

    public IReadOnlyList<RecordedRequest> To(string path) => Requests.Where(r => r.Path == "/" + path).ToList();

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        string body = await reader.ReadToEndAsync();
        if (Interlocked.Decrement(ref _hang) >= 0)
        {
            _requests.Enqueue(new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? "", context.Request.ContentType, context.Request.Headers.UserAgent.ToString(), body, _clock.GetUtcNow(), 0));
            try
            {
                await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
            return;
        }
        int status = _always ?? (_answers.TryDequeue(out int s) ? s : 200);
        _requests.Enqueue(new RecordedRequest(
            context.Request.Method, context.Request.Path.Value ?? "", context.Request.ContentType, context.Request.Headers.UserAgent.ToString(), body, _clock.GetUtcNow(), status));
        context.Response.StatusCode = status;
        if (status >= 400)
        {
            await context.Response.WriteAsync($"refused with {status}\nby the test listener");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().WaitAsync(NotificationHarness.Timeout);
        await _app.DisposeAsync();
    }
}
