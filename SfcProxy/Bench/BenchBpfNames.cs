namespace SfcProxy.Bench;

/// <summary>
/// The benchmark's floor objects (bpf/bench): programs that do nothing, timed on the same frames as
/// the datapath so the cost of a test run itself can be subtracted. A name that drifts from the C
/// fails BpfNamesTests, not a benchmark. Each object holds one program of its own name, built into
/// bpf/&lt;Object&gt;.bpf.o.
/// </summary>
internal static class BenchBpfNames
{
    public static class EmptyXdp
    {
        public const string Object = "empty_xdp", Program = "empty_xdp";
    }

    public static class EmptyTc
    {
        public const string Object = "empty_tc", Program = "empty_tc";
    }
}
