using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SfcProxy.Configuration;

/// <summary>The optional Prometheus endpoint: the instance's metric families over HTTP at <c>/metrics</c>.</summary>
public sealed class MetricsOptions
{
    /// <summary>Where the endpoint listens: <c>ADDRESS:PORT</c>, an IPv6 address in brackets
    /// (<c>127.0.0.1:9464</c>, <c>[::1]:9464</c>). Default: none, no endpoint.</summary>
    public string? Listen { get; set; }
}

/// <summary>A parsed <see cref="MetricsOptions.Listen"/>: one address and port, bound exactly (no name resolution).</summary>
internal sealed record MetricsListenAddress(IPAddress Address, int Port)
{
    /// <summary>The host part of a URL: IPv6 in brackets.</summary>
    public string Host => Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString();

    public override string ToString() => $"{Host}:{Port}";

    /// <summary>Parses <c>ADDRESS:PORT</c>; null and the reason when it is not one.</summary>
    public static MetricsListenAddress? Parse(string text, out string reason)
    {
        reason = "";
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            reason = $"'{text}' must be ADDRESS:PORT (127.0.0.1:9464, an IPv6 address in brackets: [::1]:9464)";
            return null;
        }
        string host = text[..colon], port = text[(colon + 1)..];
        bool bracketed = host.StartsWith('[') && host.EndsWith(']');
        if (!bracketed && host.Contains(':'))
        {
            reason = $"'{text}': an IPv6 address goes in brackets ([{host}]:{port})";
            return null;
        }
        string bare = bracketed ? host[1..^1] : host;
        // IPv4 as four decimal numbers only: TryParse also takes "127.1" and hex forms.
        if (!IPAddress.TryParse(bare, out var address) || bare.Contains('%')
            || bracketed != (address.AddressFamily == AddressFamily.InterNetworkV6)
            || (!bracketed && address.ToString() != bare))
        {
            reason = $"'{host}' is not an IP address (a name is not resolved: the endpoint binds one address, as written)";
            return null;
        }
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number is < 1 or > 65535)
        {
            reason = $"port '{port}' must be a number from 1 to 65535";
            return null;
        }
        return new MetricsListenAddress(address, number);
    }
}
