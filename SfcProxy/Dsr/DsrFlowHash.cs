using System.Buffers.Binary;
using System.Net;

namespace SfcProxy.Dsr;

/// <summary>
/// The datapath's flow hash (dsr_flow_hash in bpf/dsr/dsr_lb.bpf.c): Maglev slot = hash % M, and
/// the low bits of a per-flow outer source. Here so the host and tests can predict both.
/// </summary>
public static class DsrFlowHash
{
    /// <summary>The hash of an IPv4 or an IPv6 flow (dsr_flow_hash6: every 32-bit word of each address, destination first).</summary>
    public static uint Compute(IPAddress source, IPAddress destination, ushort sourcePort, ushort destinationPort, byte protocol)
    {
        var h = Mix(protocol + 0x9e3779b9u);
        h = Mix(h ^ ((uint)sourcePort << 16 | destinationPort));
        h = MixAddress(h, destination.GetAddressBytes());
        h = MixAddress(h, source.GetAddressBytes());
        return h;
    }

    /// <summary>The outer IPv6 flow label of a flow (dsr_flow_label, RFC 6438): 20 bits of its hash, never 0.</summary>
    public static uint FlowLabel(uint hash)
    {
        var label = (hash ^ hash >> 20) & 0xFFFFF;
        return label != 0 ? label : 1;
    }

    private static uint MixAddress(uint h, byte[] address)
    {
        for (var i = 0; i < address.Length; i += 4)
            h = Mix(h ^ BinaryPrimitives.ReadUInt32BigEndian(address.AsSpan(i)));
        return h;
    }

    /// <summary>The Maglev table slot of a flow.</summary>
    public static int Slot(uint hash) => (int)(hash % (uint)DsrLimits.MaglevSize);

    private static uint Mix(uint h)
    {
        unchecked
        {
            h ^= h >> 16;
            h *= 0x85ebca6b;
            h ^= h >> 13;
            h *= 0xc2b2ae35;
            h ^= h >> 16;
            return h;
        }
    }
}
