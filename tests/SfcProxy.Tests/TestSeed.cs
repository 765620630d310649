using System.Globalization;

namespace SfcProxy.Tests;

/// <summary>The seed of a randomised test: fixed so a run is reproducible, overridden by an
/// environment variable (decimal or 0x hex) to reproduce or explore another run.</summary>
internal static class TestSeed
{
    public static int From(string variable, int defaultSeed)
    {
        var s = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(s))
            return defaultSeed;
        s = s.Trim();
        var ok = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? int.TryParse(s[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v)
            : int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v);
        if (!ok)
            Assert.Fail($"{variable} '{s}' is not a 32-bit integer");
        return v;
    }
}
