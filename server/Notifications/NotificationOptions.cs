using Microsoft.Extensions.Options;

namespace Fleet.Server.Notifications;

/// <summary>
/// How notifications are sent (section <c>Fleet:Notifications</c>), and the base of the links they carry
/// (<c>Fleet:PublicUrl</c>; by default the server's own HTTP address, <c>Fleet:Http:Url</c>).
/// </summary>
public sealed class NotificationOptions
{
    public const string Section = "Fleet:Notifications";
    public const string PublicUrlKey = "Fleet:PublicUrl";
    public const string DefaultPublicUrl = "http://127.0.0.1:5080";

    /// <summary>The address users reach Fleet's pages at: generatorURL, externalURL and the generic payload's url.</summary>
    public string PublicUrl { get; set; } = DefaultPublicUrl;

    /// <summary>Attempts before a delivery is given up as failed.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The wait after the first failed attempt; it doubles after each further one, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Each wait is shortened by a random share up to this (0 to 1), so many failed deliveries do not retry in step.</summary>
    public double JitterFraction { get; set; } = 0.2;

    /// <summary>How often the dispatcher looks for due deliveries.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Deliveries claimed per round.</summary>
    public int BatchSize { get; set; } = 20;

    /// <summary>Requests in flight at once.</summary>
    public int Concurrency { get; set; } = 4;

    /// <summary>Delivered and failed deliveries older than this leave the log (checked hourly); pending ones stay.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>One request's timeout.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a claimed delivery is kept from other servers while it is being sent. A server that dies mid-send
    /// leaves it to be sent again once this has passed (at least once).
    /// </summary>
    public TimeSpan ClaimLease => RequestTimeout + TimeSpan.FromMinutes(1);

    /// <summary>The public URL as a base for links (always ending in '/').</summary>
    public Uri PublicBase => new(PublicUrl.EndsWith('/') ? PublicUrl : PublicUrl + "/", UriKind.Absolute);

    /// <summary>The public URL from configuration: <c>Fleet:PublicUrl</c>, else the HTTP endpoint with a wildcard host read as loopback.</summary>
    internal static string ResolvePublicUrl(IConfiguration configuration)
    {
        if (configuration[PublicUrlKey] is { Length: > 0 } configured)
        {
            return configured.Trim();
        }
        if (configuration["Fleet:Http:Url"] is not { Length: > 0 } http)
        {
            return DefaultPublicUrl;
        }
        // Kestrel's "every address" spellings are not addresses a receiver can open: name loopback instead.
        foreach (string any in new[] { "://*:", "://+:", "://0.0.0.0:", "://[::]:" })
        {
            http = http.Replace(any, "://127.0.0.1:", StringComparison.Ordinal);
        }
        return http.Trim();
    }
}

internal sealed class ValidateNotificationOptions : IValidateOptions<NotificationOptions>
{
    public ValidateOptionsResult Validate(string? name, NotificationOptions options)
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(options.PublicUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"{NotificationOptions.PublicUrlKey}: '{options.PublicUrl}' is not an absolute http:// or https:// URL (such as https://fleet.example.com)");
        }
        if (options.MaxAttempts is < 1 or > 100)
        {
            errors.Add($"{NotificationOptions.Section}:MaxAttempts: between 1 and 100 (got {options.MaxAttempts})");
        }
        if (options.FirstRetryDelay <= TimeSpan.Zero || options.FirstRetryDelay > TimeSpan.FromHours(1))
        {
            errors.Add($"{NotificationOptions.Section}:FirstRetryDelay: above 0 and at most 01:00:00 (got {options.FirstRetryDelay})");
        }
        if (options.MaxRetryDelay < options.FirstRetryDelay || options.MaxRetryDelay > TimeSpan.FromDays(1))
        {
            errors.Add($"{NotificationOptions.Section}:MaxRetryDelay: at least FirstRetryDelay and at most 1.00:00:00 (got {options.MaxRetryDelay})");
        }
        if (!double.IsFinite(options.JitterFraction) || options.JitterFraction is < 0 or > 1)
        {
            errors.Add($"{NotificationOptions.Section}:JitterFraction: between 0 and 1 (got {options.JitterFraction})");
        }
        if (options.PollInterval <= TimeSpan.Zero || options.PollInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{NotificationOptions.Section}:PollInterval: above 0 and at most 00:10:00 (got {options.PollInterval})");
        }
        if (options.BatchSize is < 1 or > 1000)
        {
            errors.Add($"{NotificationOptions.Section}:BatchSize: between 1 and 1000 (got {options.BatchSize})");
        }
        if (options.Concurrency is < 1 or > 64)
        {
            errors.Add($"{NotificationOptions.Section}:Concurrency: between 1 and 64 (got {options.Concurrency})");
        }
        if (options.RequestTimeout <= TimeSpan.Zero || options.RequestTimeout > TimeSpan.FromMinutes(5))
        {
            errors.Add($"{NotificationOptions.Section}:RequestTimeout: above 0 and at most 00:05:00 (got {options.RequestTimeout})");
        }
        if (options.Retention < TimeSpan.FromHours(1) || options.Retention > TimeSpan.FromDays(3650))
        {
            errors.Add($"{NotificationOptions.Section}:Retention: between 01:00:00 and 3650.00:00:00 (got {options.Retention})");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
