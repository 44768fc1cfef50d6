using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleet.Agent.Streaming;
using Fleet.Server.Hosting;
using Fleet.Server.Tests.Ingest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Fleet.Server.Tests.Hosting;

/// <summary>The certificate made on first run: where it is kept, how long it serves, when it is made again.</summary>
public sealed class SelfSignedCertificateTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private readonly string _folder = Directory.CreateTempSubdirectory("fleet-selfsigned-").FullName;
    private readonly FakeTimeProvider _time = new(Start);
    private readonly ListLogger<SelfSignedCertificate> _log = new();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Directory_ => Path.Combine(_folder, "tls");

    private SelfSignedCertificate Store(params string[] names) => new(Directory_, names, _time, _log);

    private static string Fingerprint(X509Certificate2 certificate) => ServerFingerprint.Format(SHA256.HashData(certificate.RawData));

    [Fact]
    public void FirstRun_MakesAnEcdsaCertificateForTwoYears_KeyReadableByTheOwnerOnly_AndTheNextRunReusesIt()
    {
        using var made = Store().LoadOrCreate();
        using var again = Store().LoadOrCreate();

        Assert.True(made.HasPrivateKey);
        Assert.NotNull(made.GetECDsaPublicKey());
        Assert.Equal(Start - SelfSignedCertificate.Backdate, new DateTimeOffset(made.NotBefore.ToUniversalTime()));
        Assert.Equal(Start + SelfSignedCertificate.Validity, new DateTimeOffset(made.NotAfter.ToUniversalTime()));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(Directory_, SelfSignedCertificate.KeyFileName)));
        Assert.Equal(Fingerprint(made), Fingerprint(again));
        Assert.Single(_log.Lines, l => l.Message.Contains("made a self-signed certificate", StringComparison.Ordinal));
    }

    [Fact]
    public void WithinThirtyDaysOfItsEnd_IsMadeAgain_SayingThatPinnedAgentsMustBeUpdated()
    {
        string first;
        using (var made = Store().LoadOrCreate())
        {
            first = Fingerprint(made);
        }
        _time.Advance(SelfSignedCertificate.Validity - TimeSpan.FromDays(29));

        using var renewed = Store().LoadOrCreate();

        string second = Fingerprint(renewed);
        Assert.NotEqual(first, second);
        Assert.Equal(_time.GetUtcNow() + SelfSignedCertificate.Validity, new DateTimeOffset(renewed.NotAfter.ToUniversalTime()));
        var line = Assert.Single(_log.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("agents pinning the old fingerprint must be updated", StringComparison.Ordinal));
        Assert.Contains(first, line.Message, StringComparison.Ordinal);
        Assert.Contains(second, line.Message, StringComparison.Ordinal);
        using var onDisk = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(Directory_, SelfSignedCertificate.CertificateFileName));
        Assert.Equal(second, Fingerprint(onDisk));
    }

    [Fact]
    public void MoreThanThirtyDaysFromItsEnd_IsKept()
    {
        using var made = Store().LoadOrCreate();
        _time.Advance(SelfSignedCertificate.Validity - TimeSpan.FromDays(31));

        using var later = Store().LoadOrCreate();

        Assert.Equal(Fingerprint(made), Fingerprint(later));
        Assert.DoesNotContain(_log.Lines, l => l.Level == LogLevel.Warning);
    }

    [Fact]
    public void ANewlyConfiguredSubjectName_MakesANewCertificateThatNamesIt()
    {
        using var made = Store().LoadOrCreate();

        using var named = Store("fleet.example.com").LoadOrCreate();

        Assert.NotEqual(Fingerprint(made), Fingerprint(named));
        Assert.Contains("fleet.example.com", SelfSignedCertificate.SubjectAlternativeNames(named));
        Assert.Contains(_log.Lines, l => l.Message.Contains("does not name fleet.example.com", StringComparison.Ordinal));
    }

    [Fact]
    public void UnreadableFiles_AreNotReplacedSilently_TheErrorSaysWhatToDo()
    {
        using (Store().LoadOrCreate())
        {
        }
        string pem = Path.Combine(Directory_, SelfSignedCertificate.CertificateFileName);
        File.WriteAllText(pem, "damaged");

        var e = Assert.Throws<InvalidOperationException>(() => Store().LoadOrCreate());

        Assert.StartsWith("Fleet:Tls:Directory: cannot read the self-signed certificate", e.Message, StringComparison.Ordinal);
        Assert.Contains("move both files away", e.Message, StringComparison.Ordinal);
        Assert.Equal("damaged", File.ReadAllText(pem));
    }

    [Fact]
    public void AFolderThatCannotBeMade_RefusesNamingTheKey()
    {
        string file = Path.Combine(_folder, "a-file");
        File.WriteAllText(file, "");
        var store = new SelfSignedCertificate(Path.Combine(file, "tls"), [], _time, _log);

        var e = Assert.Throws<InvalidOperationException>(() => store.LoadOrCreate());

        Assert.StartsWith("Fleet:Tls:Directory: cannot keep the self-signed certificate", e.Message, StringComparison.Ordinal);
    }
}
