using System.CommandLine;
using System.Text.Json;
using SfcProxy.Cli;
using SfcProxy.Control;
using Spectre.Console;

namespace SfcProxy.Dsr;

/// <summary>
/// `sfcproxy dsr ls|config|backend add|remove|weight`: the IP-in-IP DSR load balancer of a running daemon.
/// Backend changes are root only; the daemon rebuilds the Maglev tables and swaps them in.
/// </summary>
internal static class DsrCommand
{
    public static Command Create()
    {
        var command = new Command("dsr", "IP-in-IP DSR load balancer: services, backends, counters; backend changes");
        command.Subcommands.Add(new InstanceQuery(ControlProtocol.DsrStatus, RenderStatus).CreateCommand("ls",
            "Services (VIP, port, protocol) with their backends, weights, states (active, draining, removing with its connection entries) and packet counters, and the datapath counters"));
        command.Subcommands.Add(new InstanceQuery(ControlProtocol.DsrStatus, RenderAsConfig).CreateCommand("config",
            "The services in force (the config file's with the live changes on top) as a Dsr:Services value: written into the config file and reloaded, every live change is permanent"));
        var backend = new Command("backend", "Add, remove or reweight a backend of a service (root only); weight 0 drains");
        backend.Subcommands.Add(CreateBackend("add", "Add a backend to a service (default weight 1)", weightRequired: false));
        backend.Subcommands.Add(CreateBackend("remove", "Remove a backend: no new flows at once; its established flows keep it until they go idle, then its slot is purged", weightRequired: null));
        backend.Subcommands.Add(CreateBackend("weight", "Set a backend's weight; 0 drains (no new flows, established flows keep it)", weightRequired: true));
        command.Subcommands.Add(backend);
        return command;
    }

    /// <param name="weightRequired">true: --weight required; false: optional; null: no --weight.</param>
    private static Command CreateBackend(string action, string description, bool? weightRequired)
    {
        var vip = new Option<string>("--vip") { Description = "The service's VIP (IPv4 or IPv6)", Required = true };
        var port = new Option<int>("--port") { Description = "The service's port", Required = true };
        var protocol = new Option<string>("--protocol") { Description = "tcp (default) or udp", DefaultValueFactory = _ => "tcp" };
        var address = new Option<string>("--address") { Description = "The backend's address (IPv4 or IPv6: the outer header's family)", Required = true };
        var weight = new Option<int>("--weight")
        {
            Description = "Maglev weight 0..65535 (0 drains)",
            Required = weightRequired == true,
        };
        var query = new InstanceQuery(parseResult =>
        {
            bool weightGiven = weightRequired is not null && parseResult.GetResult(weight) is { Implicit: false };
            return new ControlRequest
            {
                Name = ControlProtocol.DsrBackend,
                Action = action,
                Vip = parseResult.GetValue(vip),
                Port = parseResult.GetValue(port),
                Protocol = parseResult.GetValue(protocol),
                Address = parseResult.GetValue(address),
                Weight = weightGiven ? parseResult.GetValue(weight) : null,
            };
        }, (answer, console, output) =>
        {
            output.WriteLine($"{action}: applied; the tables now in force:");
            RenderStatus(answer, console, output);
        });
        Symbol[] extra = weightRequired is null ? [vip, port, protocol, address] : [vip, port, protocol, address, weight];
        return query.CreateCommand(action, description, extra);
    }

    /// <summary>"active", "draining", or "removing (3 flows)": a removing backend with its connection entries.</summary>
    internal static string State(DsrBackendStatus backend) => backend.Flows switch
    {
        null => backend.State,
        1 => $"{backend.State} (1 flow)",
        var flows => $"{backend.State} ({flows} flows)",
    };

    /// <summary>The weight, with "*" when a live change (not the config file) says it.</summary>
    internal static string Weight(DsrBackendStatus backend) =>
        backend.Weight.ToString(System.Globalization.CultureInfo.InvariantCulture) + (backend.Source == "live" ? "*" : "");

    /// <summary>A byte count in binary units ("512 B", "98.6 KiB"), short enough for the table to fit 80 columns.</summary>
    internal static string Bytes(ulong bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
            (value, unit) = (value / 1024, unit + 1);
        return unit == 0 ? $"{bytes} B" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }

    /// <summary>
    /// The table in force as the config file writes it (<c>"Services": [...]</c>, removing backends
    /// left out: they are in no service). A file that says this makes every live change permanent:
    /// on the next reload each backend's entry says what its live change said (see <see cref="DsrOverlay"/>).
    /// </summary>
    private static void RenderAsConfig(JsonElement answer, IAnsiConsole console, TextWriter output)
    {
        var dsr = answer.Deserialize(DsrJsonContext.Default.DsrStatusAnswer)!.Dsr;
        var services = new System.Text.Json.Nodes.JsonArray();
        foreach (var service in dsr.Services)
        {
            var backends = new System.Text.Json.Nodes.JsonArray();
            foreach (var b in service.Backends.Where(b => b.State != "removing"))
                backends.Add(new System.Text.Json.Nodes.JsonObject { ["Address"] = b.Address, ["Weight"] = b.Weight });
            services.Add(new System.Text.Json.Nodes.JsonObject
            {
                ["Vip"] = service.Vip, ["Port"] = service.Port, ["Protocol"] = service.Protocol, ["Backends"] = backends,
            });
        }
        var section = new System.Text.Json.Nodes.JsonObject { ["Services"] = services };
        output.WriteLine(section.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The live changes, where they are kept and how to make them permanent.</summary>
    private static void WriteLiveChanges(DsrStatusBody dsr, TextWriter output)
    {
        if (dsr.LiveChanges is not { Count: > 0 } changes)
            return;
        output.WriteLine($"* live changes, not in the config file{(dsr.StateFile is { } f ? $" (kept across restarts in {f})" : "")}:");
        foreach (var c in changes)
            output.WriteLine($"  {c.Service} {c.Address}: {c.Live} (config: {c.Config}) since {c.At}");
        output.WriteLine("to make them permanent, write them into SfcProxy:Dsr:Services (`sfcproxy dsr config` prints it) and reload (SIGHUP); " +
                         "the config's word for a backend replaces its live change once it says anything new");
    }

    private static void RenderStatus(JsonElement answer, IAnsiConsole console, TextWriter output)
    {
        var dsr = answer.Deserialize(DsrJsonContext.Default.DsrStatusAnswer)!.Dsr;
        // One row per service (its totals, backend "(all)"), then one per backend: the packets and
        // bytes columns serve both, so the table still fits 80 columns.
        var table = new Table().Border(TableBorder.Rounded).Title("services")
            .AddColumn(new TableColumn("service").NoWrap())
            .AddColumn("backend")
            .AddColumn(new TableColumn("weight").RightAligned())
            .AddColumn(new TableColumn("state").NoWrap())
            .AddColumn(new TableColumn("packets").RightAligned())
            .AddColumn(new TableColumn("bytes").RightAligned().NoWrap());
        foreach (var service in dsr.Services)
        {
            string name = $"{service.Vip}:{service.Port}/{service.Protocol}";
            table.AddRow(Markup.Escape(name), service.Backends.Count == 0 ? "(none)" : "(all)", "", "",
                $"{service.Packets:N0}", Bytes(service.Bytes));
            foreach (var backend in service.Backends)
                table.AddRow("", Markup.Escape(backend.Address),
                    Weight(backend),
                    State(backend),
                    $"{backend.Packets:N0}",
                    Bytes(backend.Bytes));
        }
        console.Write(table);
        WriteLiveChanges(dsr, output);
        var counters = dsr.Counters.Where(c => c.Value != 0).Select(c => (c.Key, $"{c.Value:N0}")).ToArray();
        if (counters.Length > 0)
            KeyValueTable.Write(console, counters);
        else
            output.WriteLine("datapath counters: all zero");
    }
}
