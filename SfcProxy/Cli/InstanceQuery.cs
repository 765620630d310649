using System.CommandLine;
using System.Text.Json;
using SfcProxy.Control;
using Spectre.Console;

namespace SfcProxy.Cli;

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

    private readonly string _request;
    private readonly Action<JsonElement, IAnsiConsole> _render;

    /// <param name="request">Control protocol request name.</param>
    /// <param name="render">Prints the "ok" answer for people.</param>
    public InstanceQuery(string request, Action<JsonElement, IAnsiConsole> render)
    {
        _request = request;
        _render = render;
    }

    public Command CreateCommand(string name, string description)
    {
        var command = new Command(name, description) { _instance, _socket, _json };
        command.SetAction(RunAsync);
        return command;
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var output = parseResult.InvocationConfiguration.Output;
        var error = parseResult.InvocationConfiguration.Error;
        string? socket = parseResult.GetValue(_socket);
        string? instance = socket is null ? parseResult.GetValue(_instance) : null;
        string path = socket ?? ControlClient.DefaultSocketPath(instance!);

        string answer;
        try
        {
            answer = await ControlClient.RequestAsync(path, _request, instance, cancellationToken);
        }
        catch (ControlClientException e)
        {
            error.WriteLine($"sfcproxy: {e.Message}");
            return ExitCodes.Failed;
        }

        using var document = ParseAnswer(answer, error);
        if (document is null)
            return ExitCodes.Failed;
        var root = document.RootElement;
        bool ok = root.TryGetProperty("ok", out var okProperty) && okProperty.ValueKind == JsonValueKind.True;

        if (parseResult.GetValue(_json))
        {
            output.WriteLine(answer);
        }
        else if (ok)
        {
            _render(root, CliConsole.Create(output));
        }
        else
        {
            string reason = root.TryGetProperty("error", out var e) ? e.ToString() : answer;
            error.WriteLine($"sfcproxy: instance answered: {reason}");
        }
        return ok ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static JsonDocument? ParseAnswer(string answer, TextWriter error)
    {
        try
        {
            return JsonDocument.Parse(answer);
        }
        catch (JsonException)
        {
            error.WriteLine($"sfcproxy: instance answered something that is not JSON: {answer}");
            return null;
        }
    }
}
