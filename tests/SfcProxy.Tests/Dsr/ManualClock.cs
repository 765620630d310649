namespace SfcProxy.Tests.Dsr;

/// <summary>A clock the test moves by hand (for <see cref="SfcProxy.Dsr.ActiveDsr"/>'s idle time).</summary>
internal sealed class ManualClock : TimeProvider
{
    public DateTimeOffset Now { get; set; } = new(2026, 11, 22, 6, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Now;
}
