using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SfcProxy.Configuration;

namespace SfcProxy.Cli;

/// <summary>Loading and validating a config file, with problems printed for people.</summary>
internal static class ConfigCheck
{
    /// <summary>Prints why <paramref name="path"/> cannot be used and returns false, or returns true.</summary>
    public static bool FileIsReadable(string path, TextWriter error)
    {
        if (File.Exists(path))
            return true;
        error.WriteLine($"sfcproxy: config file '{path}' not found");
        return false;
    }

    public static void PrintUnreadable(string path, Exception e, TextWriter error)
    {
        error.WriteLine($"sfcproxy: cannot read config file '{path}': {e.Message}");
        // The JSON provider wraps the parser's message (with line and position) two levels down.
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
            error.WriteLine($"  {inner.Message}");
    }

    /// <summary>
    /// Resolves the options (binding and validation run here) and prints every failure, one per line.
    /// Runs before any hosted service, so a bad config never gets near the datapath.
    /// </summary>
    public static bool OptionsAreValid(IServiceProvider services, string path, TextWriter error)
    {
        try
        {
            _ = services.GetRequiredService<IOptions<SfcProxyOptions>>().Value;
            return true;
        }
        catch (OptionsValidationException e)
        {
            PrintFailures(path, e, error);
            return false;
        }
    }

    public static void PrintFailures(string path, OptionsValidationException e, TextWriter error)
    {
        error.WriteLine($"sfcproxy: invalid configuration in '{path}':");
        foreach (string failure in e.Failures)
            error.WriteLine(failure);
    }
}
