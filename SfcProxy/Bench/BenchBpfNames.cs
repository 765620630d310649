namespace SfcProxy.Bench;

/// <summary>
/// The benchmark's floor objects (bpf/bench): programs that do nothing, timed on the same frames as
/// the datapath so the cost of a test run itself can be subtracted, and the static proxy (pop the
/// stack, push a constant one, nothing else), the least any proxy in this hook design can cost. A name that drifts from the C
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

    /// <summary>The static proxy's ingress half: pops the stack, no cache (the job's own limit).</summary>
    public static class StaticPop
    {
        public const string Object = "static_pop", Program = "static_pop";
    }

    /// <summary>The static proxy's egress half: pushes the constant header in <see cref="Maps.StaticHeader"/>.</summary>
    public static class StaticPush
    {
        public const string Object = "static_push", Program = "static_push";
    }

    /// <summary>The least per-packet cache: the static proxy plus a slot per packet (headers in at
    /// <see cref="SlotPop"/>, out at <see cref="SlotPush"/>), what touching a slot costs; never a proxy.</summary>
    public static class SlotCache
    {
        public const string Object = "slot_cache", SlotPop = "slot_pop", SlotPush = "slot_push";
    }

    /// <summary>The maps of the bench objects.</summary>
    public static class Maps
    {
        /// <summary>static_push's header to push (the bench writes it per row).</summary>
        public const string StaticHeader = "static_push_hdr";

        /// <summary>slot_cache's slots and each CPU's next slot.</summary>
        public const string SlotRing = "slot_ring", SlotCursor = "slot_cursor";
    }
}
