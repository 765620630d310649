using System.Text.Json;
using System.Text.Json.Serialization;

namespace SfcProxy.Control;

/// <summary>
/// The core's wire shapes, serialized by source-generated code (no reflection, AOT-friendly) on both
/// sides of the socket: the server writes the answers, the CLI writes requests and reads answers.
/// Absent arguments are left out of a request line.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ControlRequest))]
[JsonSerializable(typeof(AnswerEnvelope))]
[JsonSerializable(typeof(ErrorAnswer))]
[JsonSerializable(typeof(StatusAnswer))]
[JsonSerializable(typeof(LogLevelAnswer))]
[JsonSerializable(typeof(MetricsAnswer))]
internal sealed partial class ControlJsonContext : JsonSerializerContext;
