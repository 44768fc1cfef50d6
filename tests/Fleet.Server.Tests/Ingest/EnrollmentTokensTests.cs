using System.Security.Cryptography;
using System.Text;
using Fleet.Server.Ingest;

namespace Fleet.Server.Tests.Ingest;

public sealed class EnrollmentTokensTests
{
    [Fact]
    public void Create_MakesPrefixedBase64UrlOf32Bytes_AndItsSha256()
    {
        var (token, hash) = EnrollmentTokens.Create();

        Assert.StartsWith("fleet_", token, StringComparison.Ordinal);
        Assert.Equal(32, System.Buffers.Text.Base64Url.DecodeFromChars(token.AsSpan(6)).Length);
        Assert.DoesNotContain('+', token);
        Assert.DoesNotContain('/', token);
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(token)), hash);
    }

    [Fact]
    public void Create_TwiceMakesDifferentTokens()
    {
        Assert.NotEqual(EnrollmentTokens.Create().Token, EnrollmentTokens.Create().Token);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("   ", false)]
    [InlineData("fleet_abc", true)]
    public void IsPlausible_RefusesEmptyTokens(string? token, bool expected)
    {
        Assert.Equal(expected, EnrollmentTokens.IsPlausible(token));
    }
}
