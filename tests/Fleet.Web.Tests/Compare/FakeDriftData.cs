using Fleet.Web.Data;

namespace Fleet.Web.Tests.Compare;

/// <summary>Answers the drift the test set, or throws <see cref="Failure"/>.</summary>
public sealed class FakeDriftData : IDriftData
{
    public DriftView View { get; set; } = new(DateTimeOffset.UnixEpoch, 0, []);

    public Exception? Failure { get; set; }

    public Task<DriftView> DriftAsync(CancellationToken ct) =>
        Failure is null ? Task.FromResult(View) : Task.FromException<DriftView>(Failure);
}
