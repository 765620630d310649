namespace SfcProxy.Tests.Docs;

/// <summary>The source tree the tests were built from: the directory above the test binary that
/// holds SfcProxy.sln, and the folders in it that hold source (build output left out).</summary>
internal static class RepositoryTree
{
    /// <summary>Folders that are build or test output wherever they appear, never source.</summary>
    private static readonly HashSet<string> OutputFolders = new(StringComparer.Ordinal) { "bin", "obj", "build", "TestResults" };

    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SfcProxy.sln")))
                return dir.FullName;
        }
        Assert.Fail("cannot find the repository (SfcProxy.sln) above " + AppContext.BaseDirectory);
        return "";
    }

    /// <summary>Repository-relative paths ('/'-separated, no trailing slash) of the source folders
    /// directly under <paramref name="relative"/> ("" for the top level): not hidden, not build
    /// output, and holding at least one file (an emptied folder a move left behind is not source).</summary>
    public static IEnumerable<string> SourceFoldersUnder(string relative)
    {
        var dir = Path.Combine(Root, relative);
        if (!Directory.Exists(dir))
            yield break;
        foreach (var sub in Directory.EnumerateDirectories(dir).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(sub);
            if (name.StartsWith('.') || OutputFolders.Contains(name) || !HoldsSource(sub))
                continue;
            yield return relative.Length == 0 ? name : relative.TrimEnd('/') + "/" + name;
        }
    }

    private static bool HoldsSource(string dir) =>
        Directory.EnumerateFiles(dir).Any()
        || Directory.EnumerateDirectories(dir).Any(d => !OutputFolders.Contains(Path.GetFileName(d)) && HoldsSource(d));
}
