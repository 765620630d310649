namespace SfcProxy.Proxy;

/// <summary>
/// The ingress's GRO setting from before the first attach, kept in <c>&lt;socket dir&gt;/&lt;instance&gt;.gro</c>
/// (bpffs holds no plain files), so that whoever detaches last gives the operator's setting back:
/// the daemon on stop, a daemon that took the pinned links over, or `sfcproxy detach` after a crash.
/// </summary>
internal static class GroNote
{
    public static string PathFor(string socketPath, string instance) =>
        Path.Combine(Path.GetDirectoryName(socketPath)!, $"{instance}.gro");

    public static void Write(string path, bool groWasOn)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, groWasOn ? "on" : "off");
    }

    /// <summary>The setting noted before the first attach, or null without a note.</summary>
    public static bool? Read(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() == "on" : null;
}
