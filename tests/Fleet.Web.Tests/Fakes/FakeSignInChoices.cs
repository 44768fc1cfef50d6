using Fleet.Web.Data;

namespace Fleet.Web.Tests.Fakes;

public sealed class FakeSignInChoices(string? externalProviderName = null) : ISignInChoices
{
    public SignInChoices Current { get; } = new(externalProviderName);
}
