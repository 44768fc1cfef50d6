using Fleet.Web.Data;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticAssets;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Server.Tests.Access;

/// <summary>
/// Every endpoint of the real app names who may call it: a Fleet policy (or "signed in"), or it is in the explicit
/// anonymous list below. A route someone forgets to annotate, or opens by accident, fails here with its name.
/// </summary>
public sealed class EndpointAuthorizationTests(AccessServer server) : IClassFixture<AccessServer>
{
    /// <summary>Routes anyone may call (besides static assets and the gRPC ingest, recognised by their metadata).</summary>
    private static readonly HashSet<string> Anonymous = new(StringComparer.OrdinalIgnoreCase)
    {
        "/healthz",
        "/healthz/ready",
        "/account/signin",
        "/account/signout",
        "/account/setup",
        "/account/oidc",
        "/account/oidc/complete",
        "/account/antiforgery",
        AccountRoutes.SignInPage,
        AccountRoutes.AccessDeniedPage,
        AccountRoutes.SetupPage + "/{token}",
    };

    /// <summary>
    /// Blazor's own endpoints (the circuit's hub, the redirect of enhanced navigation) and the development-time file
    /// fallback of static assets: no metadata of their own, so the fallback policy (View) guards them.
    /// </summary>
    private static readonly string[] FallbackPrefixes = ["/_blazor", "/_framework/opaque-redirect", "/{**path:file}"];

    /// <summary>The app's endpoints, once routing has run (a request builds the routing table).</summary>
    private async Task<List<RouteEndpoint>> EndpointsAsync()
    {
        using var client = server.NewClient();
        using var response = await AccessServer.GetAsync(client, "/healthz");
        return [.. server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()];
    }

    private static readonly HashSet<string?> KnownPolicies = [null, "", FleetPolicies.View, FleetPolicies.Operate, FleetPolicies.Administer];

    [Fact]
    public async Task EveryEndpoint_NamesAPolicy_OrIsListedAsAnonymous()
    {
        var endpoints = await EndpointsAsync();
        var problems = new List<string>();

        foreach (var endpoint in endpoints)
        {
            string route = "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/');
            string methods = string.Join(",", endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"]);
            bool staticAsset = endpoint.Metadata.GetMetadata<StaticAssetDescriptor>() is not null;
            // Every gRPC route (the ingest service and gRPC's "unimplemented" answers) authenticates by enrollment token.
            bool grpc = endpoint.Metadata.GetMetadata<GrpcMethodMetadata>() is not null || route.Contains(":grpcunimplemented}", StringComparison.Ordinal);
            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
            if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            {
                if (!(staticAsset || grpc || Anonymous.Contains(route)))
                {
                    problems.Add($"{methods} {route}: anonymous but not in the anonymous list");
                }
            }
            else if (policies.Count == 0)
            {
                if (!FallbackPrefixes.Any(p => route.StartsWith(p, StringComparison.Ordinal)))
                {
                    problems.Add($"{methods} {route}: no authorization metadata (add RequireAuthorization(FleetPolicies...) or [Authorize(Policy = ...)]) [{endpoint.DisplayName}]");
                }
            }
            else if (policies.FirstOrDefault(p => !KnownPolicies.Contains(p)) is { } unknown)
            {
                problems.Add($"{methods} {route}: unknown policy '{unknown}'");
            }
        }

        Assert.True(endpoints.Count > 10, $"only {endpoints.Count} endpoints found");
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public async Task AccessRoutes_NeedTheRightPolicy()
    {
        var endpoints = await EndpointsAsync();

        string? PolicyOf(string route) => endpoints
            .Where(e => "/" + (e.RoutePattern.RawText ?? "").Trim('/') == route)
            .SelectMany(e => e.Metadata.GetOrderedMetadata<IAuthorizeData>())
            .Select(a => a.Policy ?? "signed in")
            .Distinct()
            .Single();

        Assert.Equal(FleetPolicies.Administer, PolicyOf("/api/users"));
        Assert.Equal(FleetPolicies.Administer, PolicyOf("/api/users/{id}/role"));
        Assert.Equal("signed in", PolicyOf("/api/me/tokens"));
        Assert.Equal("signed in", PolicyOf("/api/me"));
    }
}
