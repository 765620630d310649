namespace SfcProxy.Configuration;

/// <summary>MAC addresses as config files write them; the SFC proxy (Nsh:NextHopMac) and DSR (NextHopMac) both take one.</summary>
internal static class MacAddressText
{
    /// <summary>Parses "aa:bb:cc:dd:ee:ff" (or with '-'); false for anything else.</summary>
    public static bool TryParse(string text, out byte[] mac)
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
