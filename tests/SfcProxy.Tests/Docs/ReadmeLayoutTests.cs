using System.Text.RegularExpressions;

namespace SfcProxy.Tests.Docs;

/// <summary>
/// The README's Layout table against the tree (issue 14): every source folder a newcomer meets is in
/// the table, and every folder the table names exists. Checked: the top-level folders (named
/// themselves or by a folder inside them), and each folder directly under bpf/, SfcProxy/ and
/// tests/SfcProxy.Tests/ (build output, hidden folders and folders without a file left out).
/// </summary>
/// <remarks>
/// The table's first cell names one or more folders in backticks, from the repository root, ending
/// in '/'. A one-segment name after the first in a cell is a sibling of the one before it:
/// "`SfcProxy/Configuration/`, `Control/`" names SfcProxy/Configuration and SfcProxy/Control.
/// </remarks>
[TestClass]
public sealed partial class ReadmeLayoutTests
{
    /// <summary>The folders whose direct sub-folders must each have a row (besides the top level).</summary>
    private static readonly string[] CheckedParents = ["bpf", "SfcProxy", "tests/SfcProxy.Tests"];

    [GeneratedRegex(@"`([^`]+/)`")]
    private static partial Regex FolderToken();

    /// <summary>The folders the Layout table names, repository-relative, without the trailing '/'.</summary>
    internal static IReadOnlyList<string> LayoutFolders(string readme)
    {
        var lines = readme.Split('\n');
        int start = Array.FindIndex(lines, l => l.TrimEnd() == "## Layout");
        Assert.IsGreaterThanOrEqualTo(0, start, "README.md has no '## Layout' section");
        var folders = new List<string>();
        for (int i = start + 1; i < lines.Length && !lines[i].StartsWith("## ", StringComparison.Ordinal); i++)
        {
            var line = lines[i].Trim();
            if (!line.StartsWith('|'))
                continue;
            var cells = line.Split('|');
            if (cells.Length < 3)
                continue;
            string? previous = null;
            foreach (Match m in FolderToken().Matches(cells[1]))
            {
                var token = m.Groups[1].Value.TrimEnd('/');
                var folder = previous is not null && !token.Contains('/')
                    ? (previous.Contains('/') ? previous[..previous.LastIndexOf('/')] + "/" : "") + token
                    : token;
                folders.Add(folder);
                previous = folder;
            }
        }
        return folders;
    }

    private static IReadOnlyList<string> ReadmeFolders()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryTree.Root, "README.md"));
        var folders = LayoutFolders(readme);
        Assert.IsNotEmpty(folders, "the README's Layout table names no folder");
        return folders;
    }

    [TestMethod]
    public void EverySourceFolderHasARowInTheLayoutTable()
    {
        var named = ReadmeFolders();
        // A top-level folder is in the table when a row names it or a folder inside it (bpf/ by its
        // rows bpf/lib/, bpf/dsr/, ...); the folders under bpf/, SfcProxy/ and the tests each need their own.
        var missing = RepositoryTree.SourceFoldersUnder("")
            .Where(f => !named.Any(n => n == f || n.StartsWith(f + "/", StringComparison.Ordinal)))
            .Concat(CheckedParents.SelectMany(RepositoryTree.SourceFoldersUnder).Where(f => !named.Contains(f)))
            .ToList();
        Assert.IsEmpty(missing,
            "README.md's Layout table does not name these folders (add a row, or a name to a row): "
            + string.Join(", ", missing.Select(f => f + "/")));
    }

    [TestMethod]
    public void EveryFolderTheLayoutTableNamesExists()
    {
        var absent = ReadmeFolders()
            .Where(f => !Directory.Exists(Path.Combine(RepositoryTree.Root, f)))
            .ToList();
        Assert.IsEmpty(absent,
            "README.md's Layout table names folders the tree does not have: " + string.Join(", ", absent.Select(f => f + "/")));
    }

    [TestMethod]
    public void SiblingNamesInACellResolveAgainstTheFolderBeforeThem()
    {
        const string readme = """
            ## Layout

            | path | what |
            |---|---|
            | `SfcProxy/Configuration/`, `Control/`, `Cli/` | core |
            | `deploy/` | deployment |
            | `tests/SfcProxy.Tests/EndToEnd/`, `Deploy/` | tests; `not/a/row/` in the text |

            ## Next
            | `ignored/` | after the section |
            """;

        CollectionAssert.AreEqual(
            new[] { "SfcProxy/Configuration", "SfcProxy/Control", "SfcProxy/Cli", "deploy", "tests/SfcProxy.Tests/EndToEnd", "tests/SfcProxy.Tests/Deploy" },
            LayoutFolders(readme.ReplaceLineEndings("\n")).ToArray());
    }
}
