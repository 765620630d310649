using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace SfcProxy.Hosting;

/// <summary>
/// sd_notify(3) without libsystemd: state lines sent as one datagram to the socket systemd names in
/// NOTIFY_SOCKET (a path, or an abstract name written with a leading '@'). Does nothing when the
/// variable is not set, i.e. when not started by systemd as Type=notify.
/// </summary>
public sealed class SystemdNotifier
{
    private readonly string? _socket;

    public SystemdNotifier() : this(Environment.GetEnvironmentVariable("NOTIFY_SOCKET")) { }

    /// <param name="notifySocket">The NOTIFY_SOCKET value; null or empty disables notifications.</param>
    public SystemdNotifier(string? notifySocket) => _socket = string.IsNullOrEmpty(notifySocket) ? null : notifySocket;

    public bool IsEnabled => _socket is not null;

    /// <summary>Start-up finished: the datapath is attached and the control socket answers.</summary>
    public bool Ready(string? status = null) => Notify(status is null ? "READY=1" : $"READY=1\nSTATUS={status}");

    /// <summary>Shutdown has begun.</summary>
    public bool Stopping() => Notify("STOPPING=1");

    /// <summary>A reload has begun; send <see cref="Ready"/> when it is over.</summary>
    /// <remarks>MONOTONIC_USEC lets systemd (Type=notify-reload) match the message to its reload request.</remarks>
    public bool Reloading() => Notify($"RELOADING=1\nMONOTONIC_USEC={MonotonicMicroseconds()}");

    public bool Status(string status) => Notify($"STATUS={status}");

    /// <summary>Sends <paramref name="state"/> (newline-separated VAR=value lines).</summary>
    /// <returns>false when disabled or the message could not be sent; never throws, like sd_notify.</returns>
    public bool Notify(string state)
    {
        if (_socket is null)
            return false;
        // An abstract socket name starts with a NUL byte; systemd writes it with '@'.
        string address = _socket[0] == '@' ? "\0" + _socket[1..] : _socket;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.SendTo(Encoding.UTF8.GetBytes(state), new UnixDomainSocketEndPoint(address));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // Stopwatch reads CLOCK_MONOTONIC on Linux, the clock systemd compares against.
    private static long MonotonicMicroseconds() => (long)(Stopwatch.GetTimestamp() * (1_000_000.0 / Stopwatch.Frequency));
}
