using SfcProxy.Policy;

namespace SfcProxy.Tests.Policy;

/// <summary>Policies used by several tests, and helpers to write them to temporary files.</summary>
internal static class PolicyTexts
{
    /// <summary>The README's example: web (IPv4 + IPv6) behind lb, pingable from the world.</summary>
    public const string WebYaml = """
        endpoints:
          - name: web
            cidrs: [198.18.10.0/24, 2001:2:10::/64]
            labels: {app: web, env: prod}
          - name: lb
            cidrs: [198.18.1.0/24]
            labels: {app: lb}
          - name: db
            cidrs: [198.18.20.0/24]
            labels: {app: db, env: prod}
        rules:
          - name: web-from-lb
            from: {matchLabels: {app: lb}}
            to: {matchLabels: {app: web}}
            ports: [{protocol: tcp, port: 80}, {protocol: tcp, port: 443}]
          - name: world-ping
            from: {reserved: world}
            to: {matchLabels: {app: web}}
            ports: [{protocol: icmp}]
        """;

    /// <summary><see cref="WebYaml"/> written as JSON.</summary>
    public const string WebJson = """
        {
          "endpoints": [
            { "name": "web", "cidrs": ["198.18.10.0/24", "2001:2:10::/64"], "labels": { "app": "web", "env": "prod" } },
            { "name": "lb", "cidrs": ["198.18.1.0/24"], "labels": { "app": "lb" } },
            { "name": "db", "cidrs": ["198.18.20.0/24"], "labels": { "app": "db", "env": "prod" } }
          ],
          "rules": [
            { "name": "web-from-lb", "from": { "matchLabels": { "app": "lb" } }, "to": { "matchLabels": { "app": "web" } },
              "ports": [ { "protocol": "tcp", "port": 80 }, { "protocol": "tcp", "port": "443" } ] },
            { "name": "world-ping", "from": { "reserved": "world" }, "to": { "matchLabels": { "app": "web" } },
              "ports": [ { "protocol": "icmp" } ] }
          ]
        }
        """;

    public static CompiledPolicy Compile(params (string Name, string Text)[] files)
    {
        var set = PolicySet.Parse(files, out var errors);
        Assert.IsNotNull(set, string.Join("\n", errors));
        return PolicyCompiler.Compile(set);
    }

    public static IReadOnlyList<string> Errors(params (string Name, string Text)[] files)
    {
        var set = PolicySet.Parse(files, out var errors);
        Assert.IsNull(set, "expected errors");
        return errors;
    }
}

/// <summary>A directory of policy files under /tmp, removed on dispose.</summary>
internal sealed class PolicyFiles : IDisposable
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"sfcproxy-policy-{Guid.NewGuid():N}");

    public PolicyFiles() => System.IO.Directory.CreateDirectory(Directory);

    public string Write(string name, string text)
    {
        string path = Path.Combine(Directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
