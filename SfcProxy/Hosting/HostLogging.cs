using Microsoft.Extensions.Logging;

namespace SfcProxy.Hosting;

/// <summary>Logging of `sfcproxy run`: console only, its minimum level on a <see cref="LogLevelSwitch"/>.</summary>
internal static class HostLogging
{
    /// <summary>One line per message. When the daemon runs as a systemd service, UseSystemd switches the
    /// console to its journal format (a &lt;N&gt; priority prefix, no colours, no timestamp: the journal
    /// records both).</summary>
    public static ILoggingBuilder AddSfcProxyLogging(this ILoggingBuilder logging, LogLevelSwitch level)
    {
        logging.ClearProviders();
        // Everything reaches the filter, which asks the switch on every IsEnabled: a level set over
        // the control socket applies at once to loggers that already exist.
        logging.SetMinimumLevel(LogLevel.Trace);
        logging.AddFilter((_, _, l) => level.IsEnabled(l));
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        return logging;
    }
}
