using Microsoft.AspNetCore.Components.Forms;

namespace Fleet.Web.Tests.Fakes;

/// <summary>What the server's antiforgery gives a rendered form: a token under the field name the endpoint reads.</summary>
public sealed class FakeAntiforgery : AntiforgeryStateProvider
{
    public const string FieldName = "__RequestVerificationToken";
    public const string Token = "test-antiforgery-token";

    public override AntiforgeryRequestToken? GetAntiforgeryToken() => new(Token, FieldName);
}
