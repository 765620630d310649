using System.CommandLine;
using System.Text.Json;
using SfcProxy.Control;
using Spectre.Console;

namespace SfcProxy.Cli;

/// <summary>Prints an "ok" answer for people: tables on <paramref name="console"/>, raw text on <paramref name="output"/>.</summary>
internal delegate void AnswerRenderer(JsonElement answer, IAnsiConsole console, TextWriter output);

/// <summary>A parsed answer of the instance.</summary>
/// <param name="Error">The instance's reason when not <paramref name="Ok"/>; null when it gave none.</param>
internal sealed record InstanceAnswer(JsonDocument Document, string Line, bool Ok, string? Error = null) : IDisposable
{
    public JsonElement Root => Document.RootElement;

    public void Dispose() => Document.Dispose();
}

/// <summary>
/// The part every "ask a running instance" command shares: which instance (--instance or --socket),
/// raw output (--json), the request over the control socket, and error reporting.
/// </summary>
internal sealed class InstanceQuery
{
    private readonly Option<string> _instance = new("--instance", "-i")
    {
        Description = "Instance name (socket /run/sfcproxy/NAME.sock)",
        DefaultValueFactory = _ => "default",
    };

    private readonly Option<string> _socket = new("--socket", "-s")
    {
        Description = "Control socket path (when the instance sets Socket:Path)",
    };

    private readonly Option<bool> _json = new("--json")
    {
        Description = "Print the instance's JSON answer as is",
    };

    private readonly Func<ParseResult, ControlRequest> _request;
    private readonly AnswerRenderer _render;

    /// <param name="request">Control protocol request name.</param>
    /// <param name="render">Prints the "ok" answer for people.</param>
    public InstanceQuery(string request, AnswerRenderer render)
        : this(_ => new ControlRequest { Name = request }, render) { }

    /// <param name="request">Builds the request object, arguments included, from the command line.</param>
    public InstanceQuery(Func<ParseResult, ControlRequest> request, AnswerRenderer render)
    {
        _request = request;
        _render = render;
    }

    public bool Json(ParseResult parseResult) => parseResult.GetValue(_json);

    /// <summary>A command that asks once and prints the answer.</summary>
    public Command CreateCommand(string name, string description, params Symbol[] extra)
    {
        var command = CreateBareCommand(name, description, extra);
        command.SetAction(RunAsync);
        return command;
    }

    /// <summary>A command with the instance options and no action, for commands that ask differently.</summary>
    public Command CreateBareCommand(string name, string description, params Symbol[] extra)
    {
        var command = new Command(name, description) { _instance, _socket, _json };
        foreach (var symbol in extra)
        {
            if (symbol is Option option)
                command.Options.Add(option);
            else if (symbol is Argument argument)
                command.Arguments.Add(argument);
        }
        return command;
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        using var answer = await AskAsync(parseResult, cancellationToken);
        if (answer is null)
            return ExitCodes.Failed;
        Print(parseResult, answer);
        return answer.Ok ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>Asks the instance; prints why and returns null when there is no usable answer.</summary>
    public async Task<InstanceAnswer?> AskAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var error = parseResult.InvocationConfiguration.Error;
        string? socket = parseResult.GetValue(_socket);
        string? instance = socket is null ? parseResult.GetValue(_instance) : null;
        string path = socket ?? ControlClient.DefaultSocketPath(instance!);

        string line;
        try
        {
            line = await ControlClient.RequestAsync(path, _request(parseResult), instance, cancellationToken);
        }
        catch (ControlClientException e)
        {
            error.WriteLine($"sfcproxy: {e.Message}");
            return null;
        }

        try
        {
            var document = JsonDocument.Parse(line);
            var envelope = AnswerEnvelope.Read(document.RootElement);
            return new InstanceAnswer(document, line, envelope.Ok, envelope.Error);
        }
        catch (JsonException)
        {
            error.WriteLine($"sfcproxy: instance answered something that is not JSON: {line}");
            return null;
        }
    }

    /// <summary>The answer as --json asks, rendered for people, or the instance's error on stderr.</summary>
    public void Print(ParseResult parseResult, InstanceAnswer answer)
    {
        var output = parseResult.InvocationConfiguration.Output;
        if (Json(parseResult))
        {
            output.WriteLine(answer.Line);
        }
        else if (answer.Ok)
        {
            _render(answer.Root, CliConsole.Create(output), output);
        }
        else
        {
            string reason = answer.Error ?? answer.Line;
            parseResult.InvocationConfiguration.Error.WriteLine($"sfcproxy: instance answered: {reason}");
        }
    }
}
