using Microsoft.Extensions.Configuration;

namespace SfcProxy.Configuration;

/// <summary>
/// Fills <see cref="SfcProxyOptions"/> from the "SfcProxy" section: the fields every instance has
/// here, each module's fields through its <see cref="IOptionsSection"/>. Conversion problems land in
/// <see cref="SfcProxyOptions.BindingFailures"/> for the validator to report with everything else.
/// </summary>
internal static class SfcProxyOptionsBinder
{
    public static void Bind(IConfigurationSection section, SfcProxyOptions options)
    {
        var root = new ConfigSectionReader(section, options.BindingFailures);

        options.Instance = root.String(nameof(options.Instance), options.Instance)!;
        options.PinRoot = root.String(nameof(options.PinRoot), options.PinRoot)!;
        options.StateDirectory = root.String(nameof(options.StateDirectory), options.StateDirectory)!;
        options.LogLevel = root.Choice(nameof(options.LogLevel), options.LogLevel, OptionValues.LogLevels);

        var socket = root.Object(nameof(options.Socket));
        options.Socket.Path = socket.String(nameof(ControlSocketOptions.Path), options.Socket.Path);
        options.Socket.Group = socket.String(nameof(ControlSocketOptions.Group), options.Socket.Group);
        socket.RejectUnknownKeys();

        var metrics = root.Object(nameof(options.Metrics));
        options.Metrics.Listen = metrics.String(nameof(MetricsOptions.Listen), options.Metrics.Listen);
        metrics.RejectUnknownKeys();

        foreach (var module in options.Sections)
            module.Bind(root, options);

        // After every module has read its fields: what nobody read is a misspelt or unknown field.
        root.RejectUnknownKeys();
    }
}
