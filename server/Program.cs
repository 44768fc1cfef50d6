using Fleet.Server.Cli;
using Fleet.Server.Hosting;

// Commands (tokens create/list) run instead of the web server, before any host is built.
if (ServerCommandLine.IsCommand(args))
{
    return await ServerCommandLine.RunAsync(args, Console.Out, Console.Error);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddFleetServer();

var app = builder.Build();
app.MapFleetServer();
await app.RunAsync();
return 0;

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
