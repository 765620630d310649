namespace SfcProxy.Bpf;

/// <summary>Where an XDP program runs.</summary>
public enum XdpAttachMode
{
    /// <summary>In the driver (XDP_FLAGS_DRV_MODE); fails if the driver has no XDP support.</summary>
    Native,
    /// <summary>After the skb is built (XDP_FLAGS_SKB_MODE); works on every device, slower.</summary>
    Generic,
}

/// <summary>Which tc hook of an interface.</summary>
public enum TcDirection
{
    Ingress,
    Egress,
}

/// <summary>BPF_ANY / BPF_NOEXIST / BPF_EXIST.</summary>
[Flags]
public enum MapUpdateFlags : ulong
{
    /// <summary>Create or replace.</summary>
    Any = 0,
    /// <summary>Create only; fails with EEXIST if the key is present.</summary>
    NoExist = 1,
    /// <summary>Replace only; fails with ENOENT if the key is absent.</summary>
    Exist = 2,
}
