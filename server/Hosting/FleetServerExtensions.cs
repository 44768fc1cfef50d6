namespace Fleet.Server.Hosting;

/// <summary>Wires the server's parts; each later capability adds its own Add*/Map* pair here.</summary>
public static class FleetServerExtensions
{
    public static WebApplicationBuilder AddFleetServer(this WebApplicationBuilder builder)
    {
        builder.Services.AddGrpc();
        return builder;
    }

    public static WebApplication MapFleetServer(this WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Text("ok"));
        return app;
    }
}
