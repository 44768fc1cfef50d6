using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace Fleet.Browser.Tests.Browsing;

/// <summary>
/// A page in a browser context of its own that records what a user would not see but a test must: console errors,
/// uncaught page errors, and how many times a document finished loading (a full navigation or reload).
/// </summary>
internal sealed class ObservedPage : IAsyncDisposable
{
    /// <summary>How long any one Playwright action or expectation may take.</summary>
    public const float Timeout = 30_000;

    private static readonly TimeSpan Bound = TimeSpan.FromMilliseconds(Timeout);

    private readonly IBrowserContext _context;
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly TaskCompletionSource _circuit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _loads;

    private ObservedPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.SetDefaultTimeout(Timeout);
        page.SetDefaultNavigationTimeout(Timeout);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                _errors.Enqueue($"console error at {message.Location}: {message.Text}");
            }
        };
        page.PageError += (_, error) => _errors.Enqueue($"page error: {error}");
        page.Load += (_, _) => Interlocked.Increment(ref _loads);
        page.WebSocket += (_, socket) =>
        {
            // Blazor's interactive server circuit: SignalR over a WebSocket to /_blazor.
            if (socket.Url.Contains("/_blazor", StringComparison.Ordinal))
            {
                socket.FrameReceived += (_, _) => _circuit.TrySetResult();
            }
        };
    }

    public IPage Page { get; }

    /// <summary>Documents loaded so far (each page.goto, reload or full navigation adds one).</summary>
    public int Loads => Volatile.Read(ref _loads);

    public IReadOnlyCollection<string> Errors => _errors;

    /// <param name="storageState">A signed-in session (<see cref="StorageStateAsync"/> of another page), or null.</param>
    public static async Task<ObservedPage> OpenAsync(IBrowser browser, Uri baseAddress, string? storageState = null)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString(),
            StorageState = storageState,
            ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
            ColorScheme = ColorScheme.Dark,
        }).WaitAsync(Bound);
        try
        {
            return new ObservedPage(context, await context.NewPageAsync().WaitAsync(Bound));
        }
        catch
        {
            await context.CloseAsync().WaitAsync(Bound);
            throw;
        }
    }

    /// <summary>Opens <paramref name="path"/> and waits until Blazor's circuit is up (the page is interactive).</summary>
    public async Task GoAsync(string path)
    {
        await Page.GotoAsync(path, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        await WaitInteractiveAsync();
    }

    /// <summary>
    /// Blazor's interactive server circuit answered over its WebSocket and the layout has rendered interactively
    /// (data-interactive="true", which prerendered HTML never has): clicks and live updates reach the page now.
    /// A click before that lands on prerendered HTML without handlers and is lost.
    /// </summary>
    public async Task WaitInteractiveAsync()
    {
        await _circuit.Task.WaitAsync(Bound);
        await Page.Locator("[data-testid=page][data-interactive=true]").WaitForAsync(new LocatorWaitForOptions { Timeout = (float)Bound.TotalMilliseconds });
    }

    /// <summary>Fills and posts the /signin form (a server-rendered page: no circuit to wait for).</summary>
    public async Task SignInAsync(string userName, string password, string path = "/signin")
    {
        if (!Page.Url.Contains("/signin", StringComparison.Ordinal))
        {
            await Page.GotoAsync(path, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        }
        await Page.FillAsync("[data-testid=field-userName]", userName);
        await Page.FillAsync("[data-testid=field-password]", password);
        await Page.ClickAsync("[data-testid=signin-submit]");
        await Page.WaitForLoadStateAsync(LoadState.Load);
    }

    /// <summary>This context's cookies and storage, to start another context signed in as the same user.</summary>
    public Task<string> StorageStateAsync() => _context.StorageStateAsync().WaitAsync(Bound);

    /// <summary>Runs <paramref name="script"/> in the page (bounded: evaluation has no timeout of its own).</summary>
    public Task<T> EvaluateAsync<T>(string script) => Page.EvaluateAsync<T>(script).WaitAsync(Bound);

    /// <summary>A full-page screenshot under the repository's TestResults/screenshots.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        string path = Path.Combine(RepositoryPaths.Screenshots, $"{name}.png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true, Timeout = Timeout });
        return path;
    }

    public void AssertNoErrors() =>
        Assert.True(_errors.IsEmpty, $"the page logged errors:{Environment.NewLine}{string.Join(Environment.NewLine, _errors)}");

    public async ValueTask DisposeAsync() => await _context.CloseAsync().WaitAsync(Bound);
}
