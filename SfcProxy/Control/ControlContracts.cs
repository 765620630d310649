using System.Text.Json;
using System.Text.Json.Serialization;

namespace SfcProxy.Control;

/// <summary>
/// What every answer holds, whatever its request: "ok", and "error" when it is false. The CLI reads
/// it before the answer's own shape.
/// </summary>
internal sealed record AnswerEnvelope(bool Ok, string? Error)
{
    /// <summary>The envelope of <paramref name="answer"/>; not ok, with no error, when the line is not an answer.</summary>
    public static AnswerEnvelope Read(JsonElement answer)
    {
        try
        {
            return answer.Deserialize(ControlJsonContext.Default.AnswerEnvelope) ?? new(false, null);
        }
        catch (JsonException)
        {
            return new(false, null);
        }
    }
}

/// <summary><c>{"ok":false,"error":"..."}</c>: the answer to any request that is refused or fails.</summary>
internal sealed record ErrorAnswer(string Error)
{
    [JsonPropertyOrder(-1)]
    public bool Ok => false;
}

/// <summary>The answer to <c>status</c>: what the instance runs and since when.</summary>
internal sealed record StatusAnswer(InstanceStatus Status)
{
    [JsonPropertyOrder(-1)]
    public bool Ok => true;
}

/// <summary>What <c>status</c> says of an instance. The core writes the instance, pid, log level and
/// uptime; the SFC proxy's fields (encapsulations to interfaces) are its module's
/// (<see cref="IControlModule.DescribeStatus"/>) and left out when the instance does not run it.</summary>
internal sealed record InstanceStatus(
    string Instance, int Pid, IReadOnlyList<string>? Encapsulations, string? KeyMode, string? MissPolicy, string? XdpMode,
    int? ConsumedSegments, InstanceInterfaces? Interfaces, string LogLevel, double UptimeSeconds);

/// <summary>The SFC interfaces; one not configured is written as null (Vnf: the VNF is the host stack).</summary>
internal sealed record InstanceInterfaces(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Ingress,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Egress,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Vnf);

/// <summary>The answer to <c>log-level</c>: the level before and the level now.</summary>
internal sealed record LogLevelAnswer(string Previous, string Level)
{
    [JsonPropertyOrder(-1)]
    public bool Ok => true;
}

/// <summary>The answer to <c>metrics</c>: the Prometheus text, as one string.</summary>
internal sealed record MetricsAnswer(string Metrics)
{
    [JsonPropertyOrder(-1)]
    public bool Ok => true;
}
