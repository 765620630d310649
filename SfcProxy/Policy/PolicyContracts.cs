using System.Text.Json;
using System.Text.Json.Serialization;

namespace SfcProxy.Policy;

/// <summary>The answer to a <c>policy-apply</c> that failed: the error line, and each error on its own.</summary>
internal sealed record PolicyApplyRefusal(string Error, IReadOnlyList<string> Errors)
{
    [JsonPropertyOrder(-1)]
    public bool Ok => false;
}

/// <summary>The policy module's wire shapes (source-generated serializers, shared by the control socket and the CLI).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PolicyApplyRefusal))]
[JsonSerializable(typeof(PolicyStatusAnswer))]
[JsonSerializable(typeof(PolicyAppliedAnswer))]
[JsonSerializable(typeof(PolicyCheckAnswer))]
internal sealed partial class PolicyJsonContext : JsonSerializerContext;
