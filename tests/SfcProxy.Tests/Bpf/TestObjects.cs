using SfcProxy.Bench;

namespace SfcProxy.Tests.Bpf;

/// <summary>Paths of the BPF objects the build copies next to the test assembly, and per-test pin roots.</summary>
internal static class TestObjects
{
    public static string EmptyXdp => Path(BenchBpfNames.EmptyXdp.Object + ".bpf.o");
    public static string EmptyTc => Path(BenchBpfNames.EmptyTc.Object + ".bpf.o");
    public static string Probe => Path("probe.bpf.o");
    public static string VerifierReject => Path("verifier_reject.bpf.o");

    public static string Path(string file) => System.IO.Path.Combine(AppContext.BaseDirectory, "bpf", file);

    /// <summary>A fresh bpffs directory no other test uses; remove it with Directory.Delete(recursive) in finally.</summary>
    public static string UniquePinRoot() => $"/sys/fs/bpf/sfcproxy-test-{Guid.NewGuid():N}";

    public static void RemovePinRoot(string pinRoot)
    {
        if (Directory.Exists(pinRoot))
        {
            Directory.Delete(pinRoot, recursive: true);
        }
    }
}
