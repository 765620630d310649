using System.Text;
using System.Text.RegularExpressions;

namespace SfcProxy.Tests.Docs;

/// <summary>
/// Every relative link in the README and the documents it sends a newcomer to (docs/*.md,
/// tests/README.md, vm-lab/results/README.md) points to a file or folder that exists, and a
/// "#section" part to a heading of that document (GitHub's anchor rule). Links inside fenced code
/// blocks and links with a scheme (https:, mailto:) are not checked.
/// </summary>
[TestClass]
public sealed partial class DocLinkTests
{
    [GeneratedRegex(@"\[[^\]]*\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.-]*:")]
    private static partial Regex Scheme();

    private static IEnumerable<string> Documents()
    {
        var root = RepositoryTree.Root;
        yield return "README.md";
        foreach (var f in Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md").Order(StringComparer.Ordinal))
            yield return Path.GetRelativePath(root, f).Replace('\\', '/');
        yield return "tests/README.md";
        yield return "vm-lab/results/README.md";
    }

    /// <summary>The links of a Markdown text outside fenced code blocks.</summary>
    internal static IEnumerable<string> Links(string markdown)
    {
        bool fenced = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                fenced = !fenced;
                continue;
            }
            if (fenced)
                continue;
            foreach (Match m in Link().Matches(line))
                yield return m.Groups[1].Value;
        }
    }

    /// <summary>GitHub's anchor of a heading: lower case, punctuation dropped, spaces to '-'.</summary>
    internal static string Anchor(string heading)
    {
        var sb = new StringBuilder();
        foreach (var c in heading.Trim().ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_')
                sb.Append(c);
            else if (c == ' ')
                sb.Append('-');
        }
        return sb.ToString();
    }

    private static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        bool fenced = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
                fenced = !fenced;
            else if (!fenced && line.StartsWith('#'))
                anchors.Add(Anchor(line.TrimStart('#')));
        }
        return anchors;
    }

    [TestMethod]
    public void EveryRelativeLinkPointsToAnExistingFileAndHeading()
    {
        var root = RepositoryTree.Root;
        var broken = new List<string>();
        int checkedLinks = 0;
        foreach (var doc in Documents())
        {
            var path = Path.Combine(root, doc);
            if (!File.Exists(path))
            {
                broken.Add($"{doc}: the document itself is missing");
                continue;
            }
            var text = File.ReadAllText(path).ReplaceLineEndings("\n");
            foreach (var link in Links(text))
            {
                if (Scheme().IsMatch(link))
                    continue;
                checkedLinks++;
                var hash = link.IndexOf('#');
                var file = hash < 0 ? link : link[..hash];
                var anchor = hash < 0 ? null : link[(hash + 1)..];
                var target = file.Length == 0 ? path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, file));
                if (!File.Exists(target) && !Directory.Exists(target))
                {
                    broken.Add($"{doc}: ({link}) points to {Path.GetRelativePath(root, target)}, which does not exist");
                    continue;
                }
                if (anchor is not null && File.Exists(target) && target.EndsWith(".md", StringComparison.Ordinal)
                    && !Anchors(File.ReadAllText(target).ReplaceLineEndings("\n")).Contains(anchor))
                    broken.Add($"{doc}: ({link}) names no heading of {Path.GetRelativePath(root, target)}");
            }
        }
        Assert.IsGreaterThan(0, checkedLinks, "no relative link found: the link pattern no longer matches");
        Assert.IsEmpty(broken, "broken links:\n" + string.Join("\n", broken));
    }

    [TestMethod]
    public void AnchorsFollowGitHubsRule()
    {
        Assert.AreEqual("dependencies-and-why", Anchor("Dependencies, and why"));
        Assert.AreEqual("restart-upgrade-and-reload", Anchor(" Restart, upgrade and reload"));
        Assert.AreEqual("the-key-modes-when-each-works-and-when-it-cannot", Anchor("The key modes: when each works and when it cannot"));
        CollectionAssert.AreEqual(new[] { "a.md", "b.md#x" },
            Links("[a](a.md) text\n```\n[no](c.md)\n```\nsee [b](b.md#x)\n").ToArray());
    }
}
