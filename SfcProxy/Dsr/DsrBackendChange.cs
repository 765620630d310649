using System.Net;
using SfcProxy.Configuration;
using SfcProxy.Control;

namespace SfcProxy.Dsr;

/// <summary>A parsed dsr-backend request.</summary>
internal sealed record DsrBackendChange(string Action, IPAddress Vip, ushort Port, byte Protocol, IPAddress Address, uint? Weight)
{
    public static readonly string[] Actions = ["add", "remove", "weight"];

    /// <returns>null with <paramref name="error"/> when a field is missing or wrong.</returns>
    public static DsrBackendChange? Parse(ControlRequest request, out string error)
    {
        error = "";
        string? action = request.Action?.Trim().ToLowerInvariant();
        if (action is null || !Actions.Contains(action))
            error = $"\"action\" must be one of {string.Join(", ", Actions)}";
        else if (!DsrOptions.TryParseIp(request.Vip, out var vip))
            error = $"\"vip\" must be an IPv4 or IPv6 address, got '{request.Vip}'";
        else if (request.Port is not (>= 1 and <= 65535))
            error = "\"port\" must be a whole number 1..65535";
        else if (DsrOptions.ProtocolNumber(request.Protocol ?? "tcp") is not { } protocol)
            error = $"\"protocol\" must be tcp or udp, got '{request.Protocol}'";
        else if (!DsrOptions.TryParseIp(request.Address, out var address))
            error = $"\"address\" must be an IPv4 or IPv6 address, got '{request.Address}'";
        else if (action == "weight" && request.Weight is null)
            error = "\"weight\" is required for action weight (0 drains)";
        else if (action == "remove" && request.Weight is not null)
            error = "\"weight\" makes no sense for action remove";
        else
            return new DsrBackendChange(action, vip, (ushort)request.Port.Value, protocol, address, (uint?)request.Weight);
        return null;
    }
}
