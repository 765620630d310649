using System.Buffers;
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using SfcProxy.Control;
using SfcProxy.Policy;
using Spectre.Console;

namespace SfcProxy.Cli;

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
            using var answer = OfflineAnswer(json => PolicyJson.WriteStatus(json, policy, hits: null));
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
            if (!answer.Ok && !query.Json(parseResult) && answer.Root.TryGetProperty("errors", out _))
            {
                // One line per problem, like `validate`, rather than one long joined line.
                var error = parseResult.InvocationConfiguration.Error;
                error.WriteLine("sfcproxy: policy not applied, the policy in force is unchanged:");
                foreach (var line in answer.Root.Deserialize(PolicyJsonContext.Default.PolicyApplyRefusal)!.Errors)
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
                Protocol = parseResult.GetValue(proto),
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
            using var answer = OfflineAnswer(json => PolicyJson.WriteCheck(json, check, result, policy, PolicyJson.FromModel));
            query.Print(parseResult, answer);
            return ExitCodes.Ok;
        });
        return command;
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
    private static InstanceAnswer OfflineAnswer(Action<Utf8JsonWriter> writeBody)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteBoolean("ok", true);
            writeBody(json);
            json.WriteEndObject();
        }
        string line = System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
        return new InstanceAnswer(JsonDocument.Parse(line), line, Ok: true);
    }

    private static void RenderStatus(JsonElement answer, IAnsiConsole console, TextWriter output)
    {
        var policy = answer.GetProperty("policy");
        bool hasHits = policy.GetProperty("rules").EnumerateArray().Any(r => r.TryGetProperty("hits", out _));

        var identities = new Table().Border(TableBorder.Rounded).Title("identities")
            .AddColumn(new TableColumn("id").RightAligned())
            .AddColumn("labels")
            .AddColumn("endpoints")
            .AddColumn("cidrs")
            .AddColumn("ingress");
        foreach (var identity in policy.GetProperty("identities").EnumerateArray())
        {
            identities.AddRow(
                identity.GetProperty("id").ToString(),
                Markup.Escape(identity.GetProperty("labels").GetString()!),
                Markup.Escape(Joined(identity.GetProperty("endpoints"), ", ")),
                Markup.Escape(Joined(identity.GetProperty("cidrs"), "\n")),
                identity.GetProperty("enforced").GetBoolean() ? "enforced" : "allow all");
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
        foreach (var rule in policy.GetProperty("rules").EnumerateArray())
        {
            int entries = rule.GetProperty("entries").GetInt32();
            int generated = rule.GetProperty("generated").GetInt32();
            var cells = new List<string>
            {
                rule.GetProperty("id").ToString(),
                Markup.Escape(rule.GetProperty("name").GetString()!),
                Markup.Escape(rule.GetProperty("from").GetString()!),
                Markup.Escape(rule.GetProperty("to").GetString()!),
                Markup.Escape(Joined(rule.GetProperty("ports"), ", ")),
                entries == generated ? $"{entries:N0}" : $"{entries:N0} (of {generated:N0})",
            };
            if (hasHits)
                cells.Add(rule.TryGetProperty("hits", out var hits) ? $"{hits.GetUInt64():N0}" : "");
            rules.AddRow(cells.ToArray());
        }
        console.Write(rules);

        string world = policy.GetProperty("worldEnforced").GetBoolean() ? "; reserved:world enforced" : "";
        console.WriteLine(
            $"{policy.GetProperty("identityCount")} identities, {policy.GetProperty("prefixCount")} prefixes, " +
            $"{policy.GetProperty("ruleCount")} rules, {policy.GetProperty("entryCount").GetInt32():N0} entries, " +
            $"{policy.GetProperty("enforcedCount")} enforced identities{world}");
        console.WriteLine(hasHits ? "from the running daemon" : "from the files (offline)");
    }

    private static void RenderApplied(JsonElement answer, IAnsiConsole console, TextWriter output)
    {
        var applied = answer.GetProperty("applied");
        output.WriteLine(
            $"applied {applied.GetProperty("files").GetArrayLength()} file(s): {applied.GetProperty("identityCount")} identities, " +
            $"{applied.GetProperty("ruleCount")} rules, {applied.GetProperty("entryCount").GetInt32():N0} entries, " +
            $"{applied.GetProperty("enforcedCount")} enforced identities (compiled in {applied.GetProperty("compileMs").GetDouble():0.0} ms)");
    }

    private static void RenderCheck(JsonElement answer, IAnsiConsole console, TextWriter output)
    {
        var check = answer.GetProperty("check");
        bool model = check.GetProperty("answeredBy").GetString() == PolicyJson.FromModel;
        string dst = check.GetProperty("dstLabels").GetString()!;
        string verdict = check.GetProperty("verdict").GetString() switch
        {
            "rule" => $"ALLOWED by rule '{check.GetProperty("rule").GetString()}' (#{check.GetProperty("ruleId")})",
            "not-enforced" => $"ALLOWED: no rule selects the destination {dst}, so its ingress is not enforced",
            "default-deny" => $"DENIED: default deny (the destination {dst} is enforced and no rule allows this)",
            var other => other ?? "?",
        };
        output.WriteLine(verdict);
        KeyValueTable.Write(console,
            ("source", Endpoint(check, "src")),
            ("destination", Endpoint(check, "dst")),
            ("protocol", check.GetProperty("protocol").GetString()!),
            ("port", check.GetProperty("port").GetInt32() is var port and not 0 ? port.ToString(System.Globalization.CultureInfo.InvariantCulture) : "-"),
            ("answered by", model ? "the model (policy files, offline), not the datapath" : "the datapath of the running daemon"));
    }

    private static string Endpoint(JsonElement check, string side)
    {
        uint identity = check.GetProperty(side + "Identity").GetUInt32();
        string labels = check.GetProperty(side + "Labels").GetString()!;
        string why = identity == ReservedIdentity.World ? " (no endpoint CIDR covers it)" : "";
        return $"{check.GetProperty(side).GetString()} identity {identity} {labels}{why}";
    }

    private static string Joined(JsonElement array, string separator) =>
        string.Join(separator, array.EnumerateArray().Select(e => e.GetString()));
}
