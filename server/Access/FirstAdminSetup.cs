using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Fleet.Server.Hosting;
using Fleet.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Fleet.Server.Access;

/// <summary>
/// The one-time setup link of the first administrator: while no user exists, start-up makes a random token, keeps
/// only its SHA-256 in memory and logs the link once. It is used up by the first administrator it creates; a restart
/// makes a new one while there is still no user.
/// </summary>
internal sealed class FirstAdminSetup
{
    private readonly Lock _gate = new();
    private byte[]? _hash;

    /// <summary>Serializes the setup posts (one creates the administrator, the others find a user exists).</summary>
    public SemaphoreSlim Creating { get; } = new(1, 1);

    /// <summary>A new token (replacing any earlier one); only its hash is kept.</summary>
    public string Issue()
    {
        Span<byte> random = stackalloc byte[32];
        RandomNumberGenerator.Fill(random);
        string token = Base64Url.EncodeToString(random);
        lock (_gate)
        {
            _hash = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        }
        return token;
    }

    public bool Matches(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            return false;
        }
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        lock (_gate)
        {
            return _hash is not null && CryptographicOperations.FixedTimeEquals(hash, _hash);
        }
    }

    /// <summary>The link is spent: no token matches any more.</summary>
    public void Consume()
    {
        lock (_gate)
        {
            _hash = null;
        }
    }
}

/// <summary>At start, when the database has no user, logs the setup link once (in the background: start-up does not wait on it).</summary>
internal sealed partial class FirstAdminAnnouncer(
    FirstAdminSetup setup,
    IDbContextFactory<FleetDbContext> dbFactory,
    IServiceProvider services,
    IConfiguration configuration,
    ILogger<FirstAdminAnnouncer> logger) : IHostedLifecycleService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _announcing = Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>After the server started, so its address is known (and migrations have run).</summary>
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        _announcing = Task.Run(() => AnnounceAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _announcing.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _stopping.Dispose();

    private async Task AnnounceAsync(CancellationToken ct)
    {
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct).ConfigureAwait(false);
            if (await db.Users.AnyAsync(ct).ConfigureAwait(false))
            {
                return;
            }
            string token = setup.Issue();
            LogSetupLink(logger, new Uri(BaseAddress(), $"setup/{token}"));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
        {
            LogCheckFailed(logger, ex.Message);
        }
    }

    private Uri BaseAddress()
    {
        string? configured = configuration["Fleet:PublicUrl"];
        if (!string.IsNullOrWhiteSpace(configured) && Uri.TryCreate(configured.EndsWith('/') ? configured : configured + "/", UriKind.Absolute, out var publicUrl))
        {
            return publicUrl;
        }
        return services.GetService<FleetEndpoints>()?.HttpAddress ?? new Uri("http://localhost/");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No user exists yet: create the first administrator at {SetupLink} (one-time link, valid until used or until the server restarts; or run: Fleet.Server users create NAME --role admin)")]
    private static partial void LogSetupLink(ILogger logger, Uri setupLink);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not check whether a user exists, so no setup link was made ({Reason}); create the first administrator with: Fleet.Server users create NAME --role admin")]
    private static partial void LogCheckFailed(ILogger logger, string reason);
}
