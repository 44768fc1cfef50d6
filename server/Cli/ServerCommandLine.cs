using System.Globalization;
using Fleet.Server.Hosting;
using Fleet.Server.Ingest;

namespace Fleet.Server.Cli;

/// <summary>
/// The server's commands, run instead of the web server and parsed before any host is built:
/// <c>tokens create NAME</c> and <c>tokens list</c>. They use the configured database, or the local one of the
/// one-command mode (started for the command and stopped after it), migrated first.
/// </summary>
public static class ServerCommandLine
{
    public const int MaxTokenNameLength = 64;

    public const string Usage = """
        Usage:
          Fleet.Server                        run the server (API, pages, agent ingest)
          Fleet.Server tokens create NAME     make an enrollment token for agents; shown once
          Fleet.Server tokens list            list enrollment tokens (names and dates, never the tokens)
          Fleet.Server help                   this text

        Configuration options may follow a command, as for the server:
          --ConnectionStrings:Fleet="Host=...;Database=fleet;Username=...;Password=..."
        Without a connection string the server's own database (Fleet:LocalDatabase:DataDirectory) is used.
        """;

    /// <summary>Whether the arguments name a command (otherwise they configure the web server).</summary>
    public static bool IsCommand(IReadOnlyList<string> args) =>
        args.Count > 0 && args[0] is "tokens" or "help" or "--help" or "-h";

    /// <summary>Runs the command; returns the process exit code (0 done, 1 failed, 2 usage).</summary>
    /// <param name="configure">Tests: replaces services (a fake store) before the host is built.</param>
    public static async Task<int> RunAsync(
        IReadOnlyList<string> args,
        TextWriter output,
        TextWriter error,
        Action<IHostApplicationBuilder>? configure = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Count == 0 || args[0] is "help" or "--help" or "-h")
        {
            await output.WriteLineAsync(Usage);
            return 0;
        }
        string? name = null;
        int consumed;
        switch (args)
        {
            case ["tokens", "create", var n, ..] when !n.StartsWith('-'):
                name = n;
                consumed = 3;
                if (name.Length is 0 or > MaxTokenNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                {
                    await error.WriteLineAsync($"tokens create: the name must be 1 to {MaxTokenNameLength} letters, digits, '-', '_' or '.'");
                    return 2;
                }
                break;
            case ["tokens", "list", ..]:
                consumed = 2;
                break;
            default:
                await error.WriteLineAsync($"unknown command '{string.Join(' ', args.Take(3))}'");
                await error.WriteLineAsync(Usage);
                return 2;
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [.. args.Skip(consumed)] });
        // The command's own output is what matters: the host only reports problems.
        builder.Logging.AddFilter((category, level) => level >= LogLevel.Warning);
        builder.AddLocalDatabase(hosted: false);
        builder.Services.AddStorage(builder.Configuration);
        configure?.Invoke(builder);
        using var host = builder.Build();

        var database = host.Services.GetService<LocalDatabaseRunner>();
        try
        {
            if (database is not null)
            {
                await database.StartAsync(ct);
            }
            if (host.Services.GetService<MigrateDatabase>() is { } migrate)
            {
                await migrate(ct);
            }
            return name is not null
                ? await CreateTokenAsync(host.Services, name, output, error, ct)
                : await ListTokensAsync(host.Services, output, error, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await error.WriteLineAsync($"{args[0]} {args[1]}: {ex.Message}");
            return 1;
        }
        finally
        {
            if (database is not null)
            {
                await database.StopAsync(CancellationToken.None);
            }
        }
    }

    private static async Task<int> CreateTokenAsync(IServiceProvider services, string name, TextWriter output, TextWriter error, CancellationToken ct)
    {
        if (services.GetService<IIngestStore>() is not { } store)
        {
            await error.WriteLineAsync("tokens create: no storage is registered in this server build");
            return 1;
        }
        var (token, hash) = EnrollmentTokens.Create();
        var made = await store.AddTokenAsync(name, hash, ct);
        await output.WriteLineAsync($"Enrollment token '{made.Name}' created (id {made.Id.ToString(CultureInfo.InvariantCulture)}):");
        await output.WriteLineAsync();
        await output.WriteLineAsync($"    {token}");
        await output.WriteLineAsync();
        await output.WriteLineAsync("It will not be shown again: the server keeps only its SHA-256. Agents use it with: fleet-agent run --server URL --token-file FILE (or --token).");
        return 0;
    }

    private static async Task<int> ListTokensAsync(IServiceProvider services, TextWriter output, TextWriter error, CancellationToken ct)
    {
        if (services.GetService<IEnrollmentTokenCatalog>() is not { } catalog)
        {
            await error.WriteLineAsync("tokens list: storage does not list tokens in this server build (IEnrollmentTokenCatalog)");
            return 1;
        }
        var tokens = await catalog.ListTokensAsync(ct);
        if (tokens.Count == 0)
        {
            await output.WriteLineAsync("No enrollment tokens. Make one with: tokens create NAME");
            return 0;
        }
        int width = Math.Max(4, tokens.Max(t => t.Name.Length));
        await output.WriteLineAsync($"{"ID",6}  {"NAME".PadRight(width)}  {"CREATED (UTC)",-20}  STATUS");
        foreach (var t in tokens)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{t.Id,6}  {t.Name.PadRight(width)}  {t.CreatedAt.UtcDateTime,-20:yyyy-MM-dd HH:mm:ss}  {(t.Revoked ? "revoked" : "active")}"));
        }
        return 0;
    }
}
