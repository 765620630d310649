using System.CommandLine;
using System.Diagnostics;
using SfcProxy.Bench;
using SfcProxy.Bpf;

namespace SfcProxy.Cli;

/// <summary>
/// `sfcproxy bench`: per-packet cost of xdp_rx and tc_tx in the kernel, next to empty programs
/// measured in the same run, as a markdown table (committed under vm-lab/results/).
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var packets = new Option<int>("--packets") { Description = "Distinct packets per row", DefaultValueFactory = _ => 20000 };
        var labels = new Option<int[]>("--labels")
        {
            Description = "Label stack depths to measure",
            DefaultValueFactory = _ => [1, 4, 10, 16],
            AllowMultipleArgumentsPerToken = true,
        };
        var sampleEvery = new Option<uint>("--latency-sample-every")
        {
            Description = "Latency sampling of the measured datapath (1: every packet)",
            DefaultValueFactory = _ => (uint)Configuration.SfcProxyOptions.DefaultLatencySampleEvery,
        };
        var output = new Option<string?>("--output") { Description = "Also write the table to this markdown file" };
        var command = new Command("bench", "Measure the datapath's per-packet cost against empty programs (BPF_PROG_TEST_RUN)")
        {
            packets, labels, sampleEvery, output,
        };
        command.SetAction(parseResult => Run(parseResult.GetValue(packets), parseResult.GetValue(labels)!,
            Math.Max(parseResult.GetValue(sampleEvery), 1u), parseResult.GetValue(output), parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error));
        return command;
    }

    private static int Run(int packets, int[] labels, uint sampleEvery, string? outputPath, TextWriter output, TextWriter error)
    {
        try
        {
            BpfEnvironment.EnsureReady(BpfPins.DefaultRoot);
            var clock = Stopwatch.StartNew();
            var (rows, stages) = CoreBenchmark.Run(packets, labels, sampleEvery, line => error.WriteLine($"[{clock.Elapsed:mm\\:ss}] {line}"));
            var dsr = DsrBenchmark.Run(packets, line => error.WriteLine($"[{clock.Elapsed:mm\\:ss}] {line}"));
            var table = CoreBenchmark.ToMarkdown(rows, stages) + Environment.NewLine +
                "IP-in-IP DSR load balancer, same run:" + Environment.NewLine + Environment.NewLine + DsrBenchmark.ToMarkdown(dsr);
            output.Write(table);
            if (outputPath is not null)
            {
                var header = $"Command: `sfcproxy bench --packets {packets} --labels {string.Join(' ', labels)} --latency-sample-every {sampleEvery}`  \n" +
                    $"Run: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, kernel {Environment.OSVersion.Version}, {Environment.ProcessorCount} CPUs. " +
                    "Medians of per-packet run times reported by BPF_PROG_TEST_RUN; the floor is an empty XDP plus an empty tc program on the same frames.\n\n";
                File.WriteAllText(outputPath, header + table);
            }
            return ExitCodes.Ok;
        }
        catch (BpfException e)
        {
            error.WriteLine($"sfcproxy bench: {e.Message}");
            return ExitCodes.Failed;
        }
    }
}
