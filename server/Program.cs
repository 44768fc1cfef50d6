using Fleet.Server.Hosting;

// The server is thin for now: ingest, storage, the live hub, the API and the UI come with later issues.
var builder = WebApplication.CreateBuilder(args);
builder.AddFleetServer();

var app = builder.Build();
app.MapFleetServer();
app.Run();

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
