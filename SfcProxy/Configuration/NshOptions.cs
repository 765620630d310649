namespace SfcProxy.Configuration;

/// <summary>How restored NSH packets are framed.</summary>
public sealed class NshOptions
{
    /// <summary>
    /// Destination MAC ("aa:bb:cc:dd:ee:ff") of the outer Ethernet header put back in front of an
    /// NSH packet whose next protocol is Ethernet (the VNF emitted an Ethernet frame). Absent: the
    /// source MAC of the frame the packet arrived in, i.e. back to the SFF that sent it (RFC 7665).
    /// NSH packets carrying IP keep the Ethernet header of the VNF's own routing instead.
    /// </summary>
    public string? NextHopMac { get; set; }

    /// <summary>Parses "aa:bb:cc:dd:ee:ff" (or with '-'); false for anything else.</summary>
    internal static bool TryParseMac(string text, out byte[] mac)
    {
        mac = new byte[6];
        var parts = text.Split(':', '-');
        if (parts.Length != 6)
            return false;
        for (var i = 0; i < 6; i++)
        {
            if (parts[i].Length != 2 || !byte.TryParse(parts[i], System.Globalization.NumberStyles.HexNumber, null, out mac[i]))
                return false;
        }
        return true;
    }
}
