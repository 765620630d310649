using System.Runtime.InteropServices;

namespace SfcProxy.Bpf;

/// <summary>libbpf's message levels (enum libbpf_print_level).</summary>
public enum LibBpfLogLevel
{
    Warning = 0,
    Info = 1,
    Debug = 2,
}

/// <summary>
/// Routes libbpf's own messages (map pinning, relocation, load warnings) to a sink such as an
/// ILogger instead of stderr. Process-wide: libbpf has a single print callback.
/// </summary>
public static unsafe class LibBpfLog
{
    // libbpf lines are short; a longer one is cut, which is fine for a log.
    private const int LineBuffer = 2048;

    private static readonly Lock Gate = new();
    private static Action<LibBpfLogLevel, string>? _sink;
    private static nint _previous;
    private static bool _redirected;

    /// <summary>Sends libbpf's messages to <paramref name="sink"/> from now on. Debug messages are dropped.</summary>
    public static void Redirect(Action<LibBpfLogLevel, string> sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        lock (Gate)
        {
            _sink = sink;
            if (!_redirected)
            {
                _previous = Interop.LibBpf.libbpf_set_print(&Print);
                _redirected = true;
            }
        }
    }

    /// <summary>Gives libbpf back its previous callback (by default, printing to stderr).</summary>
    public static void Restore()
    {
        lock (Gate)
        {
            if (_redirected)
            {
                Interop.LibBpf.libbpf_restore_print(_previous);
                _redirected = false;
                _sink = null;
            }
        }
    }

    [UnmanagedCallersOnly]
    private static int Print(int level, byte* format, nint args)
    {
        Action<LibBpfLogLevel, string>? sink = _sink;
        if (sink is null || level == (int)LibBpfLogLevel.Debug)
        {
            return 0;
        }
        byte* line = stackalloc byte[LineBuffer];
        int length = Interop.Libc.vsnprintf(line, LineBuffer, format, args);
        if (length < 0)
        {
            return 0;
        }
        string text = Marshal.PtrToStringUTF8((nint)line, Math.Min(length, LineBuffer - 1)).TrimEnd('\n');
        try
        {
            sink((LibBpfLogLevel)level, text);
        }
        catch (Exception)
        {
            // An exception must not unwind into libbpf's C frames; a failing sink loses the line.
        }
        return length;
    }
}
