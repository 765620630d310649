using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using SfcProxy.Cli;
using SfcProxy.Control;
using Spectre.Console;

namespace SfcProxy.Policy;

/// <summary>
/// `sfcproxy policy ls|apply|check`: the identity-based policy. `ls --file` and `check --offline`
/// work on policy files alone (the model's view); everything else asks the running daemon, which
/// owns the datapath.
/// </summary>
internal static class PolicyCommand
{
    public static Command Create()
    {
        var command = new Command("policy", "Identity-based policy: list, apply, check");
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateApply());
        command.Subcommands.Add(CreateCheck());
        return command;
    }

    private static Option<string[]> FileOption(string description) => new("--file", "-f")
    {
        Description = description,
        Arity = ArgumentArity.OneOrMore,
    };

    private static Command CreateList()
    {
        var files = FileOption("Policy file (JSON/YAML; repeat for several): list it offline instead of asking the daemon");
        var query = new InstanceQuery(ControlProtocol.PolicyStatus, RenderStatus);
        var command = query.CreateBareCommand("ls",
            "Endpoints with their identities and rules with their compiled entries; from a running daemon also per-rule hits", files);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            string[] paths = parseResult.GetValue(files) ?? [];
            if (paths.Length == 0)
                return await AskAndPrintAsync(query, parseResult, cancellationToken);
            if (Compile(paths, parseResult.InvocationConfiguration.Error) is not { } policy)
                return ExitCodes.BadConfig;
            using var answer = OfflineAnswer(PolicyJson.Status(policy, hits: null), PolicyJsonContext.Default.PolicyStatusAnswer);
            query.Print(parseResult, answer);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateApply()
    {
        var query = new InstanceQuery(ControlProtocol.PolicyApply, RenderApplied);
        var command = query.CreateBareCommand("apply",
            "Make the running daemon re-read its policy files (SfcProxy:Policy:Files) and swap them into the datapath (root only)");
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            using var answer = await query.AskAsync(parseResult, cancellationToken);
            if (answer is null)
                return ExitCodes.Failed;
            if (!answer.Ok && !query.Json(parseResult) && Refusal(answer.Root) is { Errors: { } errors })
            {
                // One line per problem, like `validate`, rather than one long joined line.
                var error = parseResult.InvocationConfiguration.Error;
                error.WriteLine("sfcproxy: policy not applied, the policy in force is unchanged:");
                foreach (var line in errors)
                    error.WriteLine($"  {line}");
                return ExitCodes.Failed;
            }
            query.Print(parseResult, answer);
            return answer.Ok ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    private static Command CreateCheck()
    {
        var src = new Option<string>("--src") { Description = "Source address (IPv4 or IPv6)", Required = true };
        var dst = new Option<string>("--dst") { Description = "Destination address", Required = true };
        var proto = new Option<string>("--proto") { Description = "tcp, udp, icmp, icmpv6, any or a protocol number", Required = true };
        var port = new Option<int>("--port") { Description = "Destination port (tcp, udp); leave out for others" };
        var files = FileOption("Policy file for --offline (repeat for several)");
        var offline = new Option<bool>("--offline")
        {
            Description = "Answer from the policy files with the model, without a daemon (the model's answer, not the datapath's)",
        };

        var query = new InstanceQuery(
            parseResult => new ControlRequest
            {
                Name = ControlProtocol.PolicyCheck,
                Src = parseResult.GetValue(src),
                Dst = parseResult.GetValue(dst),
                Proto = parseResult.GetValue(proto),
                Port = parseResult.GetValue(port),
            },
            RenderCheck);
        var command = query.CreateBareCommand("check",
            "Would a packet be allowed, and by which rule or why not: asks the daemon's datapath, or the model with --offline",
            src, dst, proto, port, files, offline);
        command.Validators.Add(result =>
        {
            bool hasFiles = result.GetValue(files) is { Length: > 0 };
            bool isOffline = result.GetValue(offline);
            if (isOffline && !hasFiles)
                result.AddError("--offline needs the policy files: --file F [--file G ...]");
            else if (hasFiles && !isOffline)
                result.AddError("--file is for --offline (the daemon checks against the files it applied)");
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            if (PolicyCheck.TryCreate(parseResult.GetValue(src), parseResult.GetValue(dst), parseResult.GetValue(proto),
                    parseResult.GetValue(port), out string problem) is not { } check)
            {
                error.WriteLine($"sfcproxy: {problem}");
                return ExitCodes.Failed;
            }
            if (!parseResult.GetValue(offline))
                return await AskAndPrintAsync(query, parseResult, cancellationToken);

            if (Compile(parseResult.GetValue(files)!, error) is not { } policy)
                return ExitCodes.BadConfig;
            var result = policy.Check(check.Source, check.Destination, check.Protocol, check.Port);
            using var answer = OfflineAnswer(PolicyJson.Check(check, result, policy, PolicyJson.FromModel), PolicyJsonContext.Default.PolicyCheckAnswer);
            query.Print(parseResult, answer);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>A refused apply with its errors one by one; null for any other answer (needs root, not enabled).</summary>
    private static PolicyApplyRefusal? Refusal(JsonElement answer)
    {
        try
        {
            return answer.Deserialize(PolicyJsonContext.Default.PolicyApplyRefusal);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task<int> AskAndPrintAsync(InstanceQuery query, ParseResult parseResult, CancellationToken cancellationToken)
    {
        using var answer = await query.AskAsync(parseResult, cancellationToken);
        if (answer is null)
            return ExitCodes.Failed;
        query.Print(parseResult, answer);
        return answer.Ok ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>Loads and compiles the files, or prints every error and returns null.</summary>
    private static CompiledPolicy? Compile(IReadOnlyList<string> files, TextWriter error)
    {
        if (PolicySet.Load(files, out var errors) is { } set)
            return PolicyCompiler.Compile(set);
        foreach (string line in errors)
            error.WriteLine(line);
        error.WriteLine($"{errors.Count} error(s)");
        return null;
    }

    /// <summary>An "ok" answer built here, in the daemon's format, so --json and the tables are the same offline.</summary>
    private static InstanceAnswer OfflineAnswer<T>(T answer, JsonTypeInfo<T> type)
    {
        string line = JsonSerializer.Serialize(answer, type);
        return new InstanceAnswer(JsonDocument.Parse(line), line, Ok: true);
    }

    private static void RenderStatus(JsonElement answer, IAnsiConsole console, TextWriter output)
    {
        var policy = answer.Deserialize(PolicyJsonContext.Default.PolicyStatusAnswer)!.Policy;
        bool hasHits = policy.Rules.Any(r => r.Hits is not null);

        var identities = new Table().Border(TableBorder.Rounded).Title("identities")
            .AddColumn(new TableColumn("id").RightAligned())
            .AddColumn("labels")
            .AddColumn("endpoints")
            .AddColumn("cidrs")
            .AddColumn("ingress");
        foreach (var identity in policy.Identities)
        {
            identities.AddRow(
                identity.Id.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(identity.Labels),
                Markup.Escape(string.Join(", ", identity.Endpoints)),
                Markup.Escape(string.Join("\n", identity.Cidrs)),
                identity.Enforced ? "enforced" : "allow all");
        }
        console.Write(identities);

        var rules = new Table().Border(TableBorder.Rounded).Title("rules")
            .AddColumn(new TableColumn("id").RightAligned())
            .AddColumn("name")
            .AddColumn("from")
            .AddColumn("to")
            .AddColumn("ports")
            .AddColumn(new TableColumn("entries").RightAligned());
        if (hasHits)
            rules.AddColumn(new TableColumn("hits").RightAligned());
        foreach (var rule in policy.Rules)
        {
            var cells = new List<string>
            {
                rule.Id.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(rule.Name),
                Markup.Escape(rule.From),
                Markup.Escape(rule.To),
                Markup.Escape(string.Join(", ", rule.Ports)),
                rule.Entries == rule.Generated ? $"{rule.Entries:N0}" : $"{rule.Entries:N0} (of {rule.Generated:N0})",
            };
            if (hasHits)
                cells.Add(rule.Hits is { } hits ? $"{hits:N0}" : "");
            rules.AddRow(cells.ToArray());
        }
        console.Write(rules);

        string world = policy.WorldEnforced ? "; reserved:world enforced" : "";
        console.WriteLine(
            $"{policy.IdentityCount} identities, {policy.PrefixCount} prefixes, " +
            $"{policy.RuleCount} rules, {policy.EntryCount:N0} entries, " +
            $"{policy.EnforcedCount} enforced identities{world}");
        console.WriteLine(hasHits ? "from the running daemon" : "from the files (offline)");
    }

    private static void RenderApplied(JsonElement answer, IAnsiConsole console, TextWriter output)
    {
        var applied = answer.Deserialize(PolicyJsonContext.Default.PolicyAppliedAnswer)!.Applied;
        output.WriteLine(
            $"applied {applied.Files.Count} file(s): {applied.IdentityCount} identities, " +
            $"{applied.RuleCount} rules, {applied.EntryCount:N0} entries, " +
            $"{applied.EnforcedCount} enforced identities (compiled in {applied.CompileMs:0.0} ms)");
    }

    private static void RenderCheck(JsonElement answer, IAnsiConsole console, TextWriter output)
    {
        var check = answer.Deserialize(PolicyJsonContext.Default.PolicyCheckAnswer)!.Check;
        bool model = check.AnsweredBy == PolicyJson.FromModel;
        string dst = check.DstLabels;
        string verdict = check.Verdict switch
        {
            "rule" => $"ALLOWED by rule '{check.Rule}' (#{check.RuleId})",
            "not-enforced" => $"ALLOWED: no rule selects the destination {dst}, so its ingress is not enforced",
            "default-deny" => $"DENIED: default deny (the destination {dst} is enforced and no rule allows this)",
            var other => other ?? "?",
        };
        output.WriteLine(verdict);
        KeyValueTable.Write(console,
            ("source", Endpoint(check.Src, check.SrcIdentity, check.SrcLabels)),
            ("destination", Endpoint(check.Dst, check.DstIdentity, check.DstLabels)),
            ("protocol", check.Protocol),
            ("port", check.Port is var port and not 0 ? port.ToString(CultureInfo.InvariantCulture) : "-"),
            ("answered by", model ? "the model (policy files, offline), not the datapath" : "the datapath of the running daemon"));
    }

    private static string Endpoint(string address, uint identity, string labels)
    {
        string why = identity == ReservedIdentity.World ? " (no endpoint CIDR covers it)" : "";
        return $"{address} identity {identity} {labels}{why}";
    }
}
