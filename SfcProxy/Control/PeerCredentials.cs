using System.Net.Sockets;

namespace SfcProxy.Control;

/// <summary>Who is on the other end of a control connection, as the kernel recorded it at connect() (SO_PEERCRED).</summary>
internal readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid)
{
    /// <summary>Credentials nobody has: used when SO_PEERCRED fails, so that nothing is allowed.</summary>
    public static readonly PeerCredentials Unknown = new(0, uint.MaxValue, uint.MaxValue);

    public bool IsRoot => Uid == 0;

    public override string ToString() => this == Unknown ? "unknown peer" : $"peer uid {Uid}";

    public static unsafe PeerCredentials Of(Socket socket)
    {
        bool added = false;
        var handle = socket.SafeHandle;
        try
        {
            handle.DangerousAddRef(ref added);
            Interop.Libc.UCred credentials;
            uint length = (uint)sizeof(Interop.Libc.UCred);
            int rc = Interop.Libc.getsockopt((int)handle.DangerousGetHandle(), Interop.Libc.SOL_SOCKET,
                Interop.Libc.SO_PEERCRED, &credentials, &length);
            return rc == 0 ? new PeerCredentials(credentials.Pid, credentials.Uid, credentials.Gid) : Unknown;
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }
}
