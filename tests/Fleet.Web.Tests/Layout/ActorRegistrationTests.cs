using Fleet.Web.Data;
using Microsoft.Extensions.DependencyInjection;

namespace Fleet.Web.Tests.Layout;

public sealed class ActorRegistrationTests
{
    [Fact]
    public async Task AddFleetWeb_WithoutAnActor_RegistersTheAnonymousOne()
    {
        await using var provider = new ServiceCollection().AddFleetWeb().BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();

        Assert.Equal(AnonymousActor.Name, scope.ServiceProvider.GetRequiredService<IActorAccessor>().CurrentActor());
    }

    [Fact]
    public async Task AddFleetWeb_KeepsAnActorTheHostRegistered()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IActorAccessor>(new Signed());
        await using var provider = services.AddFleetWeb().BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();

        Assert.Equal("signed-in", scope.ServiceProvider.GetRequiredService<IActorAccessor>().CurrentActor());
    }

    private sealed class Signed : IActorAccessor
    {
        public string CurrentActor() => "signed-in";
    }
}
