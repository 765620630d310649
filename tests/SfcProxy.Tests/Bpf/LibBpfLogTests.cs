using SfcProxy.Bpf;

namespace SfcProxy.Tests.Bpf;

[TestClass]
public sealed class LibBpfLogTests
{
    [TestMethod]
    public void FailedLoadWarningsReachTheSink()
    {
        var lines = new List<(LibBpfLogLevel Level, string Text)>();
        LibBpfLog.Redirect((level, text) => { lock (lines) { lines.Add((level, text)); } });
        try
        {
            using BpfObject obj = BpfObject.Open(TestObjects.VerifierReject, pinRoot: null);
            Assert.ThrowsExactly<BpfException>(obj.Load);
        }
        finally
        {
            LibBpfLog.Restore();
        }

        // libbpf names the program that failed: "prog 'unchecked_read': failed to load: -13".
        Assert.IsTrue(lines.Any(l => l.Level == LibBpfLogLevel.Warning && l.Text.Contains("'unchecked_read'")),
            "no libbpf warning naming the program; got:" + Environment.NewLine + string.Join(Environment.NewLine, lines.Select(l => l.Text)));
    }
}
