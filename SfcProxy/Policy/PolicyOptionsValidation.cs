using SfcProxy.Configuration;

namespace SfcProxy.Policy;

/// <summary>
/// Checks of the "SfcProxy:Policy" section: the files exist and compile, the interfaces exist. Kept
/// apart from the proxy's checks so a policy-only host can use it alone.
/// </summary>
internal static class PolicyOptionsValidation
{
    private const string Root = SfcProxyOptions.SectionName + ":Policy";

    /// <param name="existingInterfaces">Interfaces that exist here; null skips the existence check.</param>
    public static void Validate(PolicyOptions policy, IReadOnlySet<string>? existingInterfaces, List<string> failures)
    {
        if (policy.Files.Count == 0 && policy.Interfaces.Count > 0)
            failures.Add($"{Root}:Files: required when Policy:Interfaces is set (name at least one policy file)");
        if (policy.Files.Count > 0 && policy.Interfaces.Count == 0)
            failures.Add($"{Root}:Interfaces: required when Policy:Files is set (name the interfaces whose traffic the policy judges)");

        for (int i = 0; i < policy.Interfaces.Count; i++)
        {
            string name = policy.Interfaces[i];
            string field = $"{Root}:Interfaces:{i}";
            if (string.IsNullOrWhiteSpace(name))
                failures.Add($"{field}: empty interface name");
            else if (NetworkInterfaceNames.Problem(name) is { } problem)
                failures.Add($"{field}: {problem}");
            else if (existingInterfaces is not null && !existingInterfaces.Contains(name))
                failures.Add($"{field}: interface '{name}' does not exist in this network namespace");
            else if (policy.Interfaces.Take(i).Contains(name))
                failures.Add($"{field}: '{name}' is listed twice");
        }

        bool filesUsable = true;
        for (int i = 0; i < policy.Files.Count; i++)
        {
            string path = policy.Files[i];
            string field = $"{Root}:Files:{i}";
            if (string.IsNullOrWhiteSpace(path) || !Path.IsPathFullyQualified(path))
                failures.Add($"{field}: '{path}' must be an absolute path");
            else if (!File.Exists(path))
                failures.Add($"{field}: file '{path}' does not exist");
            else
                continue;
            filesUsable = false;
        }
        if (!filesUsable || policy.Files.Count == 0)
            return;

        PolicySet.Load(policy.Files.ToList(), out var errors);
        failures.AddRange(errors.Select(error => $"{Root}:Files: {error}"));
    }
}
