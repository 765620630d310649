using System.Diagnostics;

namespace SfcProxy.Tests.Cli;

/// <summary>
/// A command in a real terminal: a detached tmux pane of a fixed size on a private tmux server
/// (its own socket, killed on dispose), the command run under `script` so its raw output stream,
/// escape codes included, is kept in <see cref="RawPath"/> while tmux draws it.
/// </summary>
internal sealed class TmuxPane : IDisposable
{
    private readonly string _server;
    private readonly string _directory;

    public string RawPath => Path.Combine(_directory, "raw");

    private string StatusPath => Path.Combine(_directory, "status");

    private TmuxPane(string directory, string server)
    {
        _directory = directory;
        _server = server;
    }

    /// <param name="command">Program and arguments; none may hold a quote (they are paths and options).</param>
    public static TmuxPane Start(int width, int height, params string[] command)
    {
        string id = Guid.NewGuid().ToString("N")[..8];
        string directory = Path.Combine(Path.GetTempPath(), $"sfcproxy-tmux-{id}");
        Directory.CreateDirectory(directory);
        var pane = new TmuxPane(directory, $"sfcproxy-test-{id}");
        // The pane stays after the command ends, so its last screen and exit status can be read.
        string config = Path.Combine(directory, "tmux.conf");
        File.WriteAllText(config, "set -g remain-on-exit on\nset -g history-limit 5000\n");
        // The shell keeps the exit status: tmux started from the test host does not always reap a
        // pane's process (it may inherit SIGCHLD blocked), so its pane_dead cannot be relied on.
        string line = $"script -q -f -e -c '{string.Join(' ', command)}' {pane.RawPath}; echo $? > {pane.StatusPath}";
        try
        {
            pane.Tmux("-f", config, "new-session", "-d", "-s", "t", "-x", width.ToString(), "-y", height.ToString(), line);
        }
        catch
        {
            pane.Dispose();
            throw;
        }
        return pane;
    }

    /// <summary>The pane as it shows, history included; <paramref name="joined"/>: lines the terminal wrapped joined again (-J).</summary>
    public string[] Capture(bool joined)
    {
        var args = new List<string> { "capture-pane", "-p", "-S", "-", "-t", "t" };
        if (joined)
            args.Add("-J");
        return Tmux([.. args]).Split('\n');
    }

    public void SendKeys(string keys) => Tmux("send-keys", "-t", "t", keys);

    public string Raw() => File.Exists(RawPath) ? File.ReadAllText(RawPath) : "";

    /// <summary>Waits until <paramref name="seen"/> holds for the pane's lines; false on timeout.</summary>
    public bool WaitFor(Func<string[], bool> seen, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (seen(Capture(joined: true)))
                return true;
            Thread.Sleep(50);
        }
        return false;
    }

    /// <summary>The command's exit status once it ended; null while it runs.</summary>
    public int? ExitStatus() =>
        File.Exists(StatusPath) && int.TryParse(File.ReadAllText(StatusPath).Trim(), out int status) ? status : null;

    private string Tmux(params string[] args)
    {
        var start = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-L");
        start.ArgumentList.Add(_server);
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start tmux (scripts/setup.sh installs it)");
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"tmux {string.Join(' ', args)}: exit {process.ExitCode}: {error}");
        return output.Result;
    }

    public void Dispose()
    {
        try
        {
            Tmux("kill-server");
        }
        catch (InvalidOperationException)
        {
            // Already gone: nothing of ours left to stop.
        }
        Directory.Delete(_directory, recursive: true);
    }
}
