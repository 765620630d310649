using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>libc calls the lab needs: signals by pid (Process.Kill only sends SIGKILL, and to a
/// whole tree) and the effective uid.</summary>
internal static class Native
{
    public const int SIGHUP = 1;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    [DllImport("libc")]
    private static extern uint geteuid();

    public static bool IsRoot => geteuid() == 0;

    /// <summary>Send SIGTERM to one process, by pid (true if it was delivered).</summary>
    public static bool Terminate(int pid) => kill(pid, SIGTERM) == 0;

    /// <summary>Send <paramref name="sig"/> to one process, by pid (true if it was delivered).</summary>
    public static bool Signal(int pid, int sig) => kill(pid, sig) == 0;
}

internal sealed record CmdResult(int ExitCode, string StdOut, string StdErr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{StdOut}\nstderr:\n{StdErr}";
}

/// <summary>Runs a command to completion with a timeout (killed on timeout).</summary>
internal static class Cmd
{
    public static CmdResult Run(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        using var p = new LabProcess(file, args);
        if (!p.WaitForExit(timeout))
        {
            p.Stop(TimeSpan.Zero);
            return new CmdResult(-1, p.StdOut, p.StdErr + $"\n[timed out after {timeout.TotalSeconds:0.#} s]");
        }
        return new CmdResult(p.ExitCode, p.StdOut, p.StdErr);
    }

    public static CmdResult Run(string file, params string[] args) => Run(file, args, TimeSpan.FromSeconds(30));

    /// <summary>Runs and fails the test with the full output unless the command exits 0.</summary>
    public static CmdResult Check(string what, string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var r = Run(file, args, timeout);
        if (r.ExitCode != 0)
        {
            Assert.Fail($"{what} failed: {file} {string.Join(' ', args)}\n{r}");
        }
        return r;
    }
}

/// <summary>
/// A background process with captured stdout/stderr, a wait for a given stdout line (READY) and a
/// graceful stop (SIGTERM, then SIGKILL after a grace period).
/// </summary>
internal sealed class LabProcess : IDisposable
{
    private readonly Process _p;
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _err = new();
    private readonly object _gate = new();
    private readonly List<(string Line, TaskCompletionSource Tcs)> _lineWaiters = new();
    private readonly TaskCompletionSource _outClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public LabProcess(string file, IEnumerable<string> args)
    {
        CommandLine = file + " " + string.Join(' ', args);
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        _p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        _p.OutputDataReceived += (_, e) => OnLine(e.Data, _out, _outClosed, true);
        _p.ErrorDataReceived += (_, e) => OnLine(e.Data, _err, _errClosed, false);
        _p.Start();
        _p.StandardInput.Close();
        _p.BeginOutputReadLine();
        _p.BeginErrorReadLine();
    }

    public string CommandLine { get; }
    public int Pid => _p.Id;
    public bool HasExited => _p.HasExited;
    public int ExitCode => _p.ExitCode;

    public string StdOut { get { lock (_gate) { return _out.ToString(); } } }
    public string StdErr { get { lock (_gate) { return _err.ToString(); } } }

    /// <summary>A position in the output so far, for <see cref="OutputSince"/>.</summary>
    public (int Out, int Err) Mark() { lock (_gate) { return (_out.Length, _err.Length); } }

    /// <summary>stdout then stderr written after <paramref name="mark"/>.</summary>
    public string OutputSince((int Out, int Err) mark)
    {
        lock (_gate)
        {
            return _out.ToString(mark.Out, _out.Length - mark.Out) + _err.ToString(mark.Err, _err.Length - mark.Err);
        }
    }

    /// <summary>Waits until the output written after <paramref name="mark"/> contains
    /// <paramref name="text"/> (ordinal, case-insensitive); returns that output, or null on timeout.</summary>
    public string? WaitForOutput(string text, (int Out, int Err) mark, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var since = OutputSince(mark);
            if (since.Contains(text, StringComparison.OrdinalIgnoreCase))
            {
                return since;
            }
            if (DateTime.UtcNow > deadline)
            {
                return null;
            }
            Thread.Sleep(50);
        }
    }

    /// <summary>Sends a signal to the process (not its children).</summary>
    public bool Signal(int sig) => !_p.HasExited && Native.Signal(_p.Id, sig);

    private void OnLine(string? line, StringBuilder sink, TaskCompletionSource closed, bool stdout)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }
        lock (_gate)
        {
            sink.AppendLine(line);
            if (stdout)
            {
                foreach (var w in _lineWaiters.Where(w => w.Line == line.Trim()))
                {
                    w.Tcs.TrySetResult();
                }
            }
        }
    }

    /// <summary>Waits until the process prints <paramref name="line"/> on stdout; fails the test
    /// (with the process output) if it exits first or the timeout passes.</summary>
    public void WaitForLine(string line, TimeSpan timeout, string what)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_out.ToString().Split('\n').Any(l => l.Trim() == line))
            {
                return;
            }
            _lineWaiters.Add((line, tcs));
        }
        var exited = _p.WaitForExitAsync();
        var done = Task.WhenAny(tcs.Task, exited, Task.Delay(timeout)).GetAwaiter().GetResult();
        if (done == tcs.Task)
        {
            return;
        }
        if (done == exited)
        {
            WaitForExit(TimeSpan.FromSeconds(2));
            Assert.Fail($"{what} exited (code {_p.ExitCode}) before printing {line}.\n{Describe()}");
        }
        Assert.Fail($"{what} did not print {line} within {timeout.TotalSeconds:0.#} s.\n{Describe()}");
    }

    /// <summary>Waits for exit and for the output pipes to drain.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_p.WaitForExit(timeout))
        {
            return false;
        }
        Task.WaitAll([_outClosed.Task, _errClosed.Task], TimeSpan.FromSeconds(5));
        return true;
    }

    /// <summary>SIGTERM, wait up to <paramref name="grace"/>, then SIGKILL. Returns true if the
    /// process ended on SIGTERM within the grace period.</summary>
    public bool Stop(TimeSpan grace)
    {
        if (_p.HasExited)
        {
            WaitForExit(TimeSpan.FromSeconds(5));
            return true;
        }
        if (grace > TimeSpan.Zero)
        {
            Native.Terminate(_p.Id);
            if (WaitForExit(grace))
            {
                return true;
            }
        }
        try
        {
            _p.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        WaitForExit(TimeSpan.FromSeconds(5));
        return false;
    }

    public string Describe(int maxChars = 6000)
    {
        static string Tail(string s, int n) => s.Length <= n ? s : "..." + s[^n..];
        var exit = _p.HasExited ? _p.ExitCode.ToString() : "running";
        return $"[{CommandLine}] (pid {_p.Id}, exit {exit})\n--- stdout ---\n{Tail(StdOut, maxChars)}\n--- stderr ---\n{Tail(StdErr, maxChars)}";
    }

    public void Dispose()
    {
        Stop(TimeSpan.FromSeconds(3));
        _p.Dispose();
    }
}
