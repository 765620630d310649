using Microsoft.Extensions.Logging;

namespace SfcProxy.Hosting;

/// <summary>
/// The minimum log level of the running instance, changed live by the control socket's
/// <c>log-level</c> request. Logging consults it through a filter on every IsEnabled check, so a
/// change applies to loggers created before it too.
/// </summary>
public sealed class LogLevelSwitch
{
    private volatile int _minimum;

    public LogLevelSwitch(LogLevel minimum = LogLevel.Information) => _minimum = (int)minimum;

    public LogLevel Minimum
    {
        get => (LogLevel)_minimum;
        set => _minimum = (int)value;
    }

    public bool IsEnabled(LogLevel level) => level != LogLevel.None && level >= Minimum;
}
