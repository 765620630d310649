namespace SfcProxy.Cli;

/// <summary>Process exit codes of the CLI.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>Runtime failure: datapath did not start, no instance to ask, instance said no.</summary>
    public const int Failed = 1;
    /// <summary>The config file is missing, unreadable or invalid. Nothing was attached.</summary>
    public const int BadConfig = 2;
}
