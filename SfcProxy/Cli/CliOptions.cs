using System.CommandLine;

namespace SfcProxy.Cli;

/// <summary>Options shared by several commands.</summary>
internal static class CliOptions
{
    public static Option<string> Config() => new("--config", "-c")
    {
        Description = "JSON config file (see sfcproxy.sample.json)",
        Required = true,
    };
}
