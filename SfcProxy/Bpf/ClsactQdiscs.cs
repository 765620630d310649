namespace SfcProxy.Bpf;

/// <summary>
/// The clsact qdiscs this process created for <see cref="TcFilterLink"/>s, counted per interface so
/// that the qdisc goes when our last filter on it goes, and a qdisc someone else made is never removed.
/// </summary>
internal static class ClsactQdiscs
{
    private static readonly Lock Gate = new();
    // ifindex -> (filters of ours on it, whether we created the qdisc)
    private static readonly Dictionary<int, (int Filters, bool Created)> Users = [];

    public static void Acquire(int ifindex, Interop.LibBpf.TcHook hook, string subject)
    {
        lock (Gate)
        {
            Users.TryGetValue(ifindex, out (int Filters, bool Created) entry);
            bool created = Interop.LibBpf.TcHookCreate(hook, subject);
            Users[ifindex] = (entry.Filters + 1, entry.Created || created);
        }
    }

    public static void Release(int ifindex, string subject)
    {
        lock (Gate)
        {
            if (!Users.TryGetValue(ifindex, out (int Filters, bool Created) entry))
            {
                return;
            }
            if (entry.Filters > 1)
            {
                Users[ifindex] = (entry.Filters - 1, entry.Created);
                return;
            }
            Users.Remove(ifindex);
            if (entry.Created)
            {
                Interop.LibBpf.TcHookDestroy(ifindex, subject);
            }
        }
    }
}
