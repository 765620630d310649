using System.Net.NetworkInformation;

namespace SfcProxy.Configuration;

/// <summary>Interface names as the kernel sees them in the daemon's network namespace.</summary>
internal static class NetworkInterfaceNames
{
    /// <summary>IFNAMSIZ - 1: the longest name the kernel accepts.</summary>
    public const int MaxLength = 15;

    /// <summary>Names of the interfaces that exist now, in the current network namespace.</summary>
    public static IReadOnlySet<string> Current() =>
        NetworkInterface.GetAllNetworkInterfaces().Select(i => i.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>Why <paramref name="name"/> cannot be an interface name (dev_valid_name), or null.</summary>
    public static string? Problem(string name)
    {
        if (name.Length > MaxLength)
            return $"'{name}' is longer than {MaxLength} characters";
        if (name is "." or ".." || name.Any(c => c == '/' || c == ':' || char.IsWhiteSpace(c)))
            return $"'{name}' is not a valid interface name";
        return null;
    }
}
