using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace SfcProxy.Tests.Bpf;

/// <summary>
/// A throw-away network namespace holding one veth pair (veth0 &lt;-&gt; veth1), so attach tests never
/// touch the host's interfaces. Code runs inside it on a dedicated thread: setns(CLONE_NEWNET)
/// changes only the calling thread, and that thread ends with the test body.
/// Deleting the namespace removes the veths and with them every program still attached.
/// </summary>
internal sealed partial class TestNetwork : IDisposable
{
    public const string Veth0 = "veth0";
    public const string Veth1 = "veth1";
    private const int CLONE_NEWNET = 0x40000000;

    private TestNetwork(string name)
    {
        Name = name;
    }

    public string Name { get; }

    public static TestNetwork Create()
    {
        var network = new TestNetwork($"sfct-{Guid.NewGuid().ToString("N")[..8]}");
        Ip($"netns add {network.Name}");
        try
        {
            Ip($"-n {network.Name} link add {Veth0} type veth peer name {Veth1}");
            Ip($"-n {network.Name} link set {Veth0} up");
            Ip($"-n {network.Name} link set {Veth1} up");
        }
        catch
        {
            network.Dispose();
            throw;
        }
        return network;
    }

    /// <summary>Runs <paramref name="body"/> inside the namespace and rethrows what it throws.</summary>
    public void Run(Action body) => RunIn(Name, body);

    /// <summary>
    /// Runs <paramref name="body"/> inside the named namespace (/run/netns/NAME) on a thread of its
    /// own (setns changes only the calling thread) and rethrows what it throws.
    /// </summary>
    public static void RunIn(string netns, Action body)
    {
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using SafeHandle ns = File.OpenHandle($"/run/netns/{netns}");
                if (setns(ns, CLONE_NEWNET) != 0)
                {
                    throw new InvalidOperationException($"setns(/run/netns/{netns}, CLONE_NEWNET) failed: errno {Marshal.GetLastPInvokeError()}");
                }
                body();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        });
        thread.Start();
        thread.Join();
        failure?.Throw();
    }

    /// <summary>Runs `ip -n &lt;ns&gt; args` and returns its output.</summary>
    public string IpIn(string args) => Run("ip", $"-n {Name} {args}");

    /// <summary>Runs `tc -n &lt;ns&gt; args` and returns its output.</summary>
    public string TcIn(string args) => Run("tc", $"-n {Name} {args}");

    public void Dispose() => Ip($"netns del {Name}");

    private static string Ip(string args) => Run("ip", args);

    private static string Run(string tool, string args)
    {
        using var process = Process.Start(new ProcessStartInfo(tool, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"`{tool} {args}` failed ({process.ExitCode}): {error.Trim()}");
        }
        return output;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(SafeHandle fd, int nstype);
}
