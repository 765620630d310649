using System.Buffers.Binary;
using System.Net.Sockets;

namespace SfcProxy.Control;

/// <summary>Who is on the other end of a control connection, as the kernel recorded it at connect() (SO_PEERCRED).</summary>
internal readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid)
{
    private const int SOL_SOCKET = 1, SO_PEERCRED = 17;

    /// <summary>Credentials nobody has: used when SO_PEERCRED fails, so that nothing is allowed.</summary>
    public static readonly PeerCredentials Unknown = new(0, uint.MaxValue, uint.MaxValue);

    public bool IsRoot => Uid == 0;

    public override string ToString() => this == Unknown ? "unknown peer" : $"peer uid {Uid}";

    /// <summary>struct ucred {pid_t pid; uid_t uid; gid_t gid;}, in the host's byte order.</summary>
    public static PeerCredentials Of(Socket socket)
    {
        Span<byte> ucred = stackalloc byte[12];
        try
        {
            if (socket.GetRawSocketOption(SOL_SOCKET, SO_PEERCRED, ucred) < ucred.Length)
                return Unknown;
        }
        catch (SocketException)
        {
            return Unknown;
        }
        var (pid, uid, gid) = BitConverter.IsLittleEndian
            ? (BinaryPrimitives.ReadInt32LittleEndian(ucred), BinaryPrimitives.ReadUInt32LittleEndian(ucred[4..]), BinaryPrimitives.ReadUInt32LittleEndian(ucred[8..]))
            : (BinaryPrimitives.ReadInt32BigEndian(ucred), BinaryPrimitives.ReadUInt32BigEndian(ucred[4..]), BinaryPrimitives.ReadUInt32BigEndian(ucred[8..]));
        // An unconnected socket reports pid 0 and uid/gid -1 (no peer).
        return pid == 0 && uid == uint.MaxValue ? Unknown : new PeerCredentials(pid, uid, gid);
    }
}
