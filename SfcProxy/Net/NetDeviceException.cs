namespace SfcProxy.Net;

/// <summary>A call on a network device failed (no such interface, an ioctl refused). The message
/// names the call, the interface and the errno.</summary>
public sealed class NetDeviceException(string message, int errno) : Exception(message)
{
    /// <summary>The positive errno of the failed call.</summary>
    public int Errno { get; } = errno;
}
