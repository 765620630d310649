namespace SfcProxy.Tests.EndToEnd;

/// <summary>Runs the repository's lab scripts (vm-lab/*.sh) from the tests' smoke runs.</summary>
internal static class LabScript
{
    /// <summary>Runs <paramref name="script"/> (a path from the repository root) with bash and fails
    /// the test with its whole output unless it exits 0 within <paramref name="timeout"/>.</summary>
    public static CmdResult Run(string script, IEnumerable<string> args, TimeSpan timeout) =>
        Cmd.Check(script, "bash", [Path.Combine(RepoRoot(), script), .. args], timeout);

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SfcProxy.sln")))
                return dir.FullName;
        }
        Assert.Fail("cannot find the repository (SfcProxy.sln) above " + AppContext.BaseDirectory);
        return "";
    }
}
