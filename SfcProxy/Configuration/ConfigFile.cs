using Microsoft.Extensions.Configuration;

namespace SfcProxy.Configuration;

/// <summary>The configuration sources of an instance: the JSON file, then environment overrides.</summary>
internal static class ConfigFile
{
    /// <summary>
    /// Environment variables with this prefix override file values, "__" separating levels
    /// (SFCPROXY_SfcProxy__Interfaces__Ingress=eth2): handy in systemd units and containers.
    /// </summary>
    public const string EnvironmentPrefix = "SFCPROXY_";

    /// <exception cref="InvalidDataException">The file is not valid JSON (comments are fine).</exception>
    public static IConfigurationBuilder AddTo(IConfigurationBuilder builder, string path) =>
        builder
            .AddJsonFile(Path.GetFullPath(path), optional: false, reloadOnChange: false)
            .AddEnvironmentVariables(EnvironmentPrefix);
}
