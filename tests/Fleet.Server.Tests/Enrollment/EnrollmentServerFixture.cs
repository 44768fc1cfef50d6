namespace Fleet.Server.Tests.Enrollment;

/// <summary>One server on a database of its own per test class; tests use names and agent ids of their own.</summary>
public sealed class EnrollmentServerFixture : IAsyncLifetime
{
    private EnrollmentServer? _server;

    internal EnrollmentServer Server => _server ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => _server = await EnrollmentServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
