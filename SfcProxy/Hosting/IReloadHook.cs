namespace SfcProxy.Hosting;

/// <summary>Something `systemctl reload` (SIGHUP) re-reads or re-applies. Registered as a singleton.</summary>
public interface IReloadHook
{
    /// <summary>Runs on SIGHUP, between RELOADING=1 and READY=1. Throwing logs an error and keeps the instance running.</summary>
    void Reload();
}
