namespace SfcProxy.Bpf;

/// <summary>Checks, before loading anything, that this host can run BPF the way the loader needs.</summary>
public static unsafe class BpfEnvironment
{
    private const string BpffsMount = "/sys/fs/bpf";
    private const string VmlinuxBtf = "/sys/kernel/btf/vmlinux";
    private const long BpffsMagic = 0xcafe4a11;
    private const int CapNetAdmin = 12;
    private const int CapBpf = 39;

    /// <summary>Throws one <see cref="BpfException"/> that lists every problem found; creates <paramref name="pinRoot"/>.</summary>
    public static void EnsureReady(string pinRoot)
    {
        var problems = new List<string>();
        if (!HasPrivileges())
        {
            problems.Add("SfcProxy needs root (or CAP_BPF+CAP_NET_ADMIN)");
        }
        if (!IsBpffs(BpffsMount))
        {
            problems.Add($"bpffs is not mounted at {BpffsMount}: mount -t bpf bpf {BpffsMount}");
        }
        else if (!IsBpffs(ExistingAncestor(pinRoot)))
        {
            problems.Add($"the pin root {pinRoot} is not on a bpffs mount");
        }
        if (!File.Exists(VmlinuxBtf))
        {
            problems.Add($"the kernel exposes no BTF at {VmlinuxBtf} (build it with CONFIG_DEBUG_INFO_BTF=y)");
        }
        if (problems.Count > 0)
        {
            throw new BpfException(string.Join(Environment.NewLine, problems));
        }
        Directory.CreateDirectory(pinRoot);
    }

    private static bool HasPrivileges()
    {
        if (Interop.Libc.geteuid() == 0)
        {
            return true;
        }
        // CapEff in /proc/self/status is the effective capability set as a hex bit mask.
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        if (line is null || !ulong.TryParse(line["CapEff:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, null, out ulong caps))
        {
            return false;
        }
        return (caps & (1ul << CapBpf)) != 0 && (caps & (1ul << CapNetAdmin)) != 0;
    }

    private static bool IsBpffs(string path)
    {
        // struct statfs is 120 bytes on 64-bit Linux; f_type is its first member (a long).
        byte* buffer = stackalloc byte[256];
        return Interop.Libc.statfs(path, buffer) == 0 && *(long*)buffer == BpffsMagic;
    }

    private static string ExistingAncestor(string path)
    {
        string? current = Path.GetFullPath(path);
        while (current is not null && !Directory.Exists(current))
        {
            current = Path.GetDirectoryName(current);
        }
        return current ?? "/";
    }
}
