using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace SfcProxy.Hosting;

/// <summary>Logging of `sfcproxy run`: console only, its minimum level on a <see cref="LogLevelSwitch"/>.</summary>
internal static class HostLogging
{
    /// <summary>systemd sets JOURNAL_STREAM when stdout goes to the journal.</summary>
    public static bool StdoutIsJournal => Environment.GetEnvironmentVariable("JOURNAL_STREAM") is { Length: > 0 };

    public static ILoggingBuilder AddSfcProxyLogging(this ILoggingBuilder logging, LogLevelSwitch level, bool journal)
    {
        logging.ClearProviders();
        // Everything reaches the filter, which asks the switch on every IsEnabled: a level set over
        // the control socket applies at once to loggers that already exist.
        logging.SetMinimumLevel(LogLevel.Trace);
        logging.AddFilter((_, _, l) => level.IsEnabled(l));
        if (journal)
        {
            // One line per message with a <N> syslog priority prefix, no colours, no timestamp:
            // the journal records the time and the priority itself.
            logging.AddSystemdConsole(o =>
            {
                o.IncludeScopes = false;
                o.TimestampFormat = null;
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
        }
        return logging;
    }
}
