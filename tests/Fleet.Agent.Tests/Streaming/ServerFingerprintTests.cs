using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleet.Agent.Streaming;

namespace Fleet.Agent.Tests.Streaming;

public sealed class ServerFingerprintTests
{
    private const string Hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

    [Theory]
    [InlineData(Hex)]
    [InlineData("00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff")]
    [InlineData("  00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\n")]
    public void TryParse_AcceptsHexWithOrWithoutColonsInAnyCase(string text)
    {
        byte[]? parsed = ServerFingerprint.TryParse(text, out string? problem);

        Assert.Null(problem);
        Assert.Equal(Convert.FromHexString(Hex), parsed);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("0011", "has 4 hexadecimal digits")]
    [InlineData("0123456789abcdef0123456789abcdef01234567", "SHA-1")]
    [InlineData("00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg", "not hexadecimal")]
    [InlineData("001:12233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "32 pairs")]
    [InlineData("00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee", "32 pairs")]
    public void TryParse_RefusesWhatIsNotASha256FingerprintSayingWhy(string text, string expected)
    {
        Assert.Null(ServerFingerprint.TryParse(text, out string? problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Format_WritesUpperCasePairsSeparatedByColons_AndParsesBack()
    {
        byte[] bytes = Convert.FromHexString(Hex);

        string text = ServerFingerprint.Format(bytes);

        Assert.Equal("00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF", text);
        Assert.Equal(bytes, ServerFingerprint.TryParse(text, out _));
    }

    [Fact]
    public void Of_IsTheSha256OfTheCertificatesDer()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=fingerprint", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1));

        Assert.Equal(SHA256.HashData(certificate.RawData), ServerFingerprint.Of(certificate));
    }

    [Theory]
    [InlineData("https://fleet.example:7443", "ca.pem", false, "--server-fingerprint and --ca-file: give one")]
    [InlineData("http://127.0.0.1:7443", null, false, "is not https://")]
    [InlineData("https://fleet.example:7443", null, true, "replaced HTTP handler")]
    [InlineData("https://fleet.example:7443", null, false, null)]
    public void ValidateTrust_NamesTheOptionsThatCannotGoTogether(string address, string? caFile, bool handlerReplaced, string? expected)
    {
        string? problem = IngestChannel.ValidateTrust(new Uri(address), caFile, Hex, handlerReplaced, "--server-fingerprint", "--ca-file");

        if (expected is null)
        {
            Assert.Null(problem);
        }
        else
        {
            Assert.Contains(expected, problem, StringComparison.Ordinal);
            Assert.StartsWith("--server-fingerprint", problem, StringComparison.Ordinal);
        }
    }
}
