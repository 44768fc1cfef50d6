using System.Globalization;
using System.Security.Cryptography;
using Fleet.Server.Access;
using Fleet.Server.Enrollment;
using Fleet.Server.Hosting;
using Fleet.Server.Ingest;
using Fleet.Web.Data;

namespace Fleet.Server.Cli;

/// <summary>
/// The server's commands, run instead of the web server and parsed before any host is built:
/// <c>tokens create NAME</c>, <c>tokens list</c>, <c>tokens revoke NAME|ID</c>, <c>users create NAME --role ROLE</c> and <c>users list</c>. They use the configured database, or the local one of the
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
          Fleet.Server tokens revoke NAME|ID  revoke an enrollment token: its agents are refused from now on
          Fleet.Server users create NAME --role admin|operator|viewer [--password-stdin]
                                              make a user; without --password-stdin a strong password is
                                              generated and printed once
          Fleet.Server users list             list users with their roles
          Fleet.Server help                   this text

        Configuration options may follow a command, as for the server:
          --ConnectionStrings:Fleet="Host=...;Database=fleet;Username=...;Password=..."
        Without a connection string the server's own database (Fleet:LocalDatabase:DataDirectory) is used.
        """;

    /// <summary>Whether the arguments name a command (otherwise they configure the web server).</summary>
    public static bool IsCommand(IReadOnlyList<string> args) =>
        args.Count > 0 && args[0] is "tokens" or "users" or "help" or "--help" or "-h";

    /// <summary>The actor the audit log names for what the command line does.</summary>
    public const string Actor = "command line";

    private enum Command
    {
        CreateToken,
        ListTokens,
        RevokeToken,
        CreateUser,
        ListUsers,
    }

    /// <summary>Runs the command; returns the process exit code (0 done, 1 failed, 2 usage).</summary>
    /// <param name="configure">Tests: replaces services (a fake store) before the host is built.</param>
    /// <param name="input">Where --password-stdin reads the password (default: the console's standard input).</param>
    public static async Task<int> RunAsync(
        IReadOnlyList<string> args,
        TextWriter output,
        TextWriter error,
        Action<IHostApplicationBuilder>? configure = null,
        TextReader? input = null,
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
        string? role = null;
        bool passwordFromInput = false;
        int consumed;
        Command command;
        switch (args)
        {
            case ["tokens", "create", var n, ..] when !n.StartsWith('-'):
                name = n;
                consumed = 3;
                command = Command.CreateToken;
                if (name.Length is 0 or > MaxTokenNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                {
                    await error.WriteLineAsync($"tokens create: the name must be 1 to {MaxTokenNameLength} letters, digits, '-', '_' or '.'");
                    return 2;
                }
                break;
            case ["tokens", "list", ..]:
                consumed = 2;
                command = Command.ListTokens;
                break;
            case ["tokens", "revoke", var n, ..] when !n.StartsWith('-'):
                name = n;
                consumed = 3;
                command = Command.RevokeToken;
                break;
            case ["users", "create", var n, ..] when !n.StartsWith('-'):
                name = n;
                command = Command.CreateUser;
                consumed = 3;
                // Its own options come first: --role ROLE (required) and --password-stdin, then configuration options.
                while (consumed < args.Count)
                {
                    if (args[consumed] == "--role" && consumed + 1 < args.Count)
                    {
                        role = args[consumed + 1];
                        consumed += 2;
                    }
                    else if (args[consumed] == "--password-stdin")
                    {
                        passwordFromInput = true;
                        consumed++;
                    }
                    else
                    {
                        break;
                    }
                }
                if (!FleetRoles.IsKnown(role))
                {
                    await error.WriteLineAsync($"users create: --role must be one of {string.Join(", ", FleetRoles.All)}{(role is null ? "" : $" (got '{role}')")}");
                    return 2;
                }
                break;
            case ["users", "list", ..]:
                consumed = 2;
                command = Command.ListUsers;
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
        if (command is Command.CreateUser or Command.ListUsers)
        {
            builder.Services.AddAccessCore(builder.Configuration);
        }
        else
        {
            builder.Services.AddEnrollment(builder.Configuration);
        }
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
            return command switch
            {
                Command.CreateToken => await CreateTokenAsync(host.Services, name!, output, error, ct),
                Command.ListTokens => await ListTokensAsync(host.Services, output, error, ct),
                Command.RevokeToken => await RevokeTokenAsync(host.Services, name!, output, error, ct),
                Command.CreateUser => await CreateUserAsync(host.Services, name!, role!, passwordFromInput ? input ?? Console.In : null, output, error, ct),
                _ => await ListUsersAsync(host.Services, output, ct),
            };
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
        NewSecret made;
        try
        {
            // The same rules, creator and audit entry as a token made on /admin/agents.
            made = await services.GetRequiredService<IEnrollmentAdmin>().CreateTokenAsync(name, Actor, ct);
        }
        catch (AccessInvalidException e)
        {
            await error.WriteLineAsync($"tokens create: {e.Message}");
            return 2;
        }
        await output.WriteLineAsync($"Enrollment token '{made.Name}' created (id {made.Id.ToString(CultureInfo.InvariantCulture)}):");
        await output.WriteLineAsync();
        await output.WriteLineAsync($"    {made.Secret}");
        await output.WriteLineAsync();
        await output.WriteLineAsync("It will not be shown again: the server keeps only its SHA-256. Agents use it with: fleet-agent run --server URL --token-file FILE (or --token).");
        return 0;
    }

    /// <summary>By id, or by the name of an unrevoked token. Running servers cut its streams within
    /// Fleet:Ingest:RevocationCheckInterval; every server refuses it on the next Hello.</summary>
    private static async Task<int> RevokeTokenAsync(IServiceProvider services, string nameOrId, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var enrollment = services.GetRequiredService<IEnrollmentAdmin>();
        var tokens = await enrollment.ListTokensAsync(ct);
        var matching = long.TryParse(nameOrId, NumberStyles.None, CultureInfo.InvariantCulture, out long id)
            ? tokens.Where(t => t.Id == id).ToList()
            : tokens.Where(t => t.Name == nameOrId && t.RevokedAt is null).ToList();
        if (matching.Count == 0)
        {
            await error.WriteLineAsync($"tokens revoke: no {(id > 0 ? "token with id" : "unrevoked token named")} '{nameOrId}' (tokens list shows them)");
            return 1;
        }
        var token = matching[0];
        await enrollment.RevokeTokenAsync(token.Id, Actor, ct);
        await output.WriteLineAsync($"Enrollment token '{token.Name}' (id {token.Id.ToString(CultureInfo.InvariantCulture)}) revoked: its agents are refused when they reconnect, and running servers cut their streams within a minute.");
        return 0;
    }

    private static async Task<int> CreateUserAsync(IServiceProvider services, string name, string role, TextReader? input, TextWriter output, TextWriter error, CancellationToken ct)
    {
        string password;
        if (input is not null)
        {
            password = (await input.ReadLineAsync(ct))?.TrimEnd('\r') ?? "";
            if (password.Length == 0)
            {
                await error.WriteLineAsync("users create: --password-stdin read no password (one line on standard input)");
                return 2;
            }
        }
        else
        {
            password = GeneratePassword();
        }
        try
        {
            var user = await services.GetRequiredService<IUserAdmin>().CreateAsync(name, password, role, Actor, ct);
            await output.WriteLineAsync($"User '{user.UserName}' created with the role {user.Role}.");
            if (input is null)
            {
                await output.WriteLineAsync();
                await output.WriteLineAsync($"    {password}");
                await output.WriteLineAsync();
                await output.WriteLineAsync("This generated password will not be shown again: hand it over safely; an admin can set another.");
            }
            return 0;
        }
        catch (AccessInvalidException e)
        {
            await error.WriteLineAsync($"users create: {e.Message}");
            return 2;
        }
    }

    /// <summary>20 random characters from 56 unambiguous letters and digits (over 110 bits).</summary>
    internal static string GeneratePassword() =>
        RandomNumberGenerator.GetString("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 20);

    private static async Task<int> ListUsersAsync(IServiceProvider services, TextWriter output, CancellationToken ct)
    {
        var users = await services.GetRequiredService<IUserAdmin>().ListAsync(ct);
        if (users.Count == 0)
        {
            await output.WriteLineAsync("No users. Make the first administrator with: users create NAME --role admin");
            return 0;
        }
        int width = Math.Max(4, users.Max(u => u.UserName.Length));
        await output.WriteLineAsync($"{"NAME".PadRight(width)}  {"ROLE",-8}  {"SOURCE",-12}  {"LAST SIGN-IN (UTC)",-20}  STATUS");
        foreach (var u in users)
        {
            string status = u.Disabled ? "disabled" : u.LockedOut ? "locked out" : "active";
            string lastSignIn = u.LastSignInAt is { } at ? at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "never";
            await output.WriteLineAsync($"{u.UserName.PadRight(width)}  {u.Role,-8}  {u.Source,-12}  {lastSignIn,-20}  {status}");
        }
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
