using System.Text.Json;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Proxy;

/// <summary>
/// Wire names of the datapath counters: the enum names in snake_case (RxPopped -> rx_popped), which
/// are also the sfc_counter names without the SFC_CNT_ prefix.
/// </summary>
internal static class CounterNames
{
    /// <summary>Every counter except the Max sentinel, in enum (and so C header) order.</summary>
    public static readonly IReadOnlyList<Counter> All =
        Enum.GetValues<Counter>().Where(c => c != Counter.Max).ToArray();

    private static readonly Dictionary<Counter, string> Names =
        All.ToDictionary(c => c, c => JsonNamingPolicy.SnakeCaseLower.ConvertName(c.ToString()));

    public static string Of(Counter counter) => Names[counter];
}
