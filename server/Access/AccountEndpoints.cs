using Fleet.Server.Storage;
using Fleet.Server.Storage.Entities;
using Fleet.Web.Data;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Access;

/// <summary>
/// The account form posts of <see cref="AccountRoutes"/>: sign-in, sign-out and the first administrator's setup,
/// each checking its antiforgery token, and answering refusals with a redirect to the page and <c>?error=</c>.
/// </summary>
internal static partial class AccountEndpoints
{
    /// <summary>The account forms hold a few short fields: a larger post is refused unread.</summary>
    public const int MaxFormBytes = 16 * 1024;

    public const string AntiforgeryPath = "/account/antiforgery";

    private const string FormExpired = "The form expired: please try again";

    /// <summary>Compared against when the user name is unknown, so an unknown name costs as much time as a wrong password.</summary>
    private static readonly Lazy<string> DummyHash = new(() => new PasswordHasher<FleetUserEntity>().HashPassword(new FleetUserEntity(), "not a password of anyone"));

    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        var account = app.MapGroup("/account").AllowAnonymous();
        account.MapPost("/signin", SignInAsync).RequireRateLimiting(AccessServiceCollectionExtensions.SignInRateLimit);
        account.MapPost("/signout", SignOutAsync);
        account.MapPost("/setup", SetupAsync).RequireRateLimiting(AccessServiceCollectionExtensions.SetupRateLimit);
        account.MapGet("/oidc", (string? returnUrl, IOptions<AccessOptions> access) => OidcSignIn.Challenge(returnUrl, access));
        account.MapGet("/oidc/complete", OidcSignIn.CompleteAsync);
        // For scripts and tests that post the forms or call the API with the session cookie.
        account.MapGet("/antiforgery", (HttpContext http, IAntiforgery antiforgery) =>
        {
            var tokens = antiforgery.GetAndStoreTokens(http);
            return Results.Ok(new { token = tokens.RequestToken, headerName = tokens.HeaderName, formFieldName = tokens.FormFieldName });
        });
        return app;
    }

    private static async Task<IResult> SignInAsync(HttpContext http, IAntiforgery antiforgery, SignInManager<FleetUserEntity> signIn, AccessAudit audit, TimeProvider clock)
    {
        var ct = http.RequestAborted;
        if (await ReadFormAsync(http).ConfigureAwait(false) is not { } form)
        {
            return Results.BadRequest($"A form post (application/x-www-form-urlencoded, at most {MaxFormBytes} bytes) is expected");
        }
        string returnUrl = LocalOrRoot(form["returnUrl"]);
        if (!await antiforgery.IsRequestValidAsync(http).ConfigureAwait(false))
        {
            return Refused(AccountRoutes.SignInPage, FormExpired, returnUrl);
        }
        string userName = form["userName"].ToString().Trim();
        string password = form["password"].ToString();
        string? client = ClientAddress(http);
        if (userName.Length is 0 or > 256 || password.Length is 0 or > 1024)
        {
            await audit.SignInFailedAsync(userName, "user name or password missing or too long", client, ct).ConfigureAwait(false);
            return Refused(AccountRoutes.SignInPage, "invalid", returnUrl);
        }
        var users = signIn.UserManager;
        var user = await users.FindByNameAsync(userName).ConfigureAwait(false);
        if (user is null)
        {
            users.PasswordHasher.VerifyHashedPassword(new FleetUserEntity(), DummyHash.Value, password);
            await audit.SignInFailedAsync(userName, "unknown user", client, ct).ConfigureAwait(false);
            return Refused(AccountRoutes.SignInPage, "invalid", returnUrl);
        }
        var result = await signIn.PasswordSignInAsync(user, password, isPersistent: false, lockoutOnFailure: true).ConfigureAwait(false);
        if (result.Succeeded)
        {
            user.LastSignInAt = clock.GetUtcNow();
            await users.UpdateAsync(user).ConfigureAwait(false);
            await audit.SignedInAsync(user, "password", client, ct).ConfigureAwait(false);
            return Results.LocalRedirect(returnUrl);
        }
        (string reason, string error) = result switch
        {
            { IsLockedOut: true } => ("locked out", "locked"),
            { IsNotAllowed: true } => ("disabled", "disabled"),
            _ => ("wrong password", "invalid"),
        };
        await audit.SignInFailedAsync(userName, reason, client, ct).ConfigureAwait(false);
        return Refused(AccountRoutes.SignInPage, error, returnUrl);
    }

    private static async Task<IResult> SignOutAsync(HttpContext http, IAntiforgery antiforgery, SignInManager<FleetUserEntity> signIn, AccessAudit audit)
    {
        if (await ReadFormAsync(http).ConfigureAwait(false) is null || !await antiforgery.IsRequestValidAsync(http).ConfigureAwait(false))
        {
            return Results.BadRequest("Sign-out is a form post with an antiforgery token");
        }
        if (http.User.Identity is { IsAuthenticated: true, Name: { } name })
        {
            await signIn.SignOutAsync().ConfigureAwait(false);
            await audit.SignedOutAsync(name, signIn.UserManager.GetUserId(http.User), ClientAddress(http), http.RequestAborted).ConfigureAwait(false);
        }
        return Results.Redirect(AccountRoutes.SignInPage);
    }

    private static async Task<IResult> SetupAsync(
        HttpContext http,
        IAntiforgery antiforgery,
        FirstAdminSetup setup,
        IUserAdmin admin,
        SignInManager<FleetUserEntity> signIn,
        FleetDbContext db,
        AccessAudit audit,
        TimeProvider clock)
    {
        var ct = http.RequestAborted;
        if (await ReadFormAsync(http).ConfigureAwait(false) is not { } form)
        {
            return Results.BadRequest($"A form post (application/x-www-form-urlencoded, at most {MaxFormBytes} bytes) is expected");
        }
        string token = form["token"].ToString();
        string page = SetupPage(token);
        if (!await antiforgery.IsRequestValidAsync(http).ConfigureAwait(false))
        {
            return Refused(page, FormExpired, null);
        }
        await setup.Creating.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!setup.Matches(token))
            {
                await audit.SignInFailedAsync(form["userName"].ToString(), "setup link invalid or used", ClientAddress(http), ct).ConfigureAwait(false);
                return Refused(page, "invalid", null);
            }
            if (await db.Users.AnyAsync(ct).ConfigureAwait(false))
            {
                setup.Consume();
                return Refused(AccountRoutes.SignInPage, "An administrator exists already: sign in", null);
            }
            string password = form["password"].ToString();
            if (password != form["confirmPassword"].ToString())
            {
                return Refused(page, "The two passwords differ", null);
            }
            UserView created;
            try
            {
                created = await admin.CreateAsync(form["userName"].ToString(), password, FleetRoles.Admin, "setup link", ct).ConfigureAwait(false);
            }
            catch (AccessInvalidException e)
            {
                return Refused(page, e.Message, null);
            }
            setup.Consume();
            var user = await signIn.UserManager.FindByIdAsync(created.Id).ConfigureAwait(false)
                ?? throw new InvalidOperationException("the administrator just created is gone");
            await signIn.SignInAsync(user, isPersistent: false, authenticationMethod: "setup").ConfigureAwait(false);
            user.LastSignInAt = clock.GetUtcNow();
            await signIn.UserManager.UpdateAsync(user).ConfigureAwait(false);
            await audit.SignedInAsync(user, "setup", ClientAddress(http), ct).ConfigureAwait(false);
            return Results.LocalRedirect("/");
        }
        finally
        {
            setup.Creating.Release();
        }
    }

    /// <summary>The rate limiter's refusal: a form post goes back to its page with error=throttled, anything else gets 429.</summary>
    public static async ValueTask OnThrottledAsync(OnRejectedContext context, CancellationToken ct)
    {
        var http = context.HttpContext;
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AccountEndpoints));
        LogThrottled(logger, http.Request.Path, ClientAddress(http));
        if (context.Lease.TryGetMetadata(System.Threading.RateLimiting.MetadataName.RetryAfter, out var retryAfter))
        {
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (await ReadFormAsync(http).ConfigureAwait(false) is { } form)
        {
            string page = http.Request.Path.StartsWithSegments(AccountRoutes.SetupPost) ? SetupPage(form["token"].ToString()) : AccountRoutes.SignInPage;
            http.Response.Redirect(RefusedUrl(page, "throttled", form.ContainsKey("returnUrl") ? LocalOrRoot(form["returnUrl"]) : null));
        }
    }

    private static async Task<IFormCollection?> ReadFormAsync(HttpContext http)
    {
        if (!http.Request.HasFormContentType || http.Request.ContentLength is null or > MaxFormBytes)
        {
            return null;
        }
        try
        {
            return await http.Request.ReadFormAsync(http.RequestAborted).ConfigureAwait(false);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private static string SetupPage(string token) => $"{AccountRoutes.SetupPage}/{Uri.EscapeDataString(token)}";

    internal static IResult Refused(string page, string error, string? returnUrl) => Results.Redirect(RefusedUrl(page, error, returnUrl));

    private static string RefusedUrl(string page, string error, string? returnUrl) =>
        $"{page}?{AccountRoutes.ErrorQuery}={Uri.EscapeDataString(error)}" + (returnUrl is null or "/" ? "" : $"&returnUrl={Uri.EscapeDataString(returnUrl)}");

    /// <summary>The return URL when it is a path on this server; otherwise the home page (no open redirect).</summary>
    internal static string LocalOrRoot(string? returnUrl)
    {
        if (string.IsNullOrEmpty(returnUrl) || returnUrl.Length > 2048 || returnUrl[0] != '/')
        {
            return "/";
        }
        if (returnUrl.Length > 1 && returnUrl[1] is '/' or '\\')
        {
            return "/";
        }
        return returnUrl.Any(char.IsControl) ? "/" : returnUrl;
    }

    internal static string? ClientAddress(HttpContext http) => http.Connection.RemoteIpAddress?.ToString();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Throttled {Path} from {ClientAddress}: too many attempts")]
    private static partial void LogThrottled(ILogger logger, PathString path, string? clientAddress);
}

/// <summary>What the sign-in page offers besides the form: the OpenID Connect provider, when one is configured.</summary>
internal sealed class SignInChoicesFromOptions(IOptions<AccessOptions> options) : ISignInChoices
{
    public SignInChoices Current { get; } = new(options.Value.Oidc.Enabled ? options.Value.Oidc.DisplayName : null);
}
