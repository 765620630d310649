using System.CommandLine;
using System.Diagnostics;
using SfcProxy.Bench;
using SfcProxy.Bpf;
using SfcProxy.Dsr;

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
        var raw = new Option<string?>("--raw") { Description = "Also write every SFC row's per-packet ns as CSV files into this directory" };
        var dsrOnly = new Option<bool>("--dsr-only") { Description = "Only the DSR load balancer rows" };
        var srv6Only = new Option<bool>("--srv6-only") { Description = "Only the SRv6 rows (no MPLS, NSH, stage or DSR rows)" };
        var only = new Option<string?>("--only")
        {
            Description = "Only the SFC rows whose \"key mode headers\" name starts with this (\"metadata mpls 4\"), no stage or DSR rows: one path for a profiler",
        };
        var dsrObjects = new Option<string?>("--dsr-objects")
        {
            Description = "Directory holding the dsr_lb.bpf.o to measure (vm-lab/dsr-stages.sh: one per stage variant)",
        };
        var dsrFib = new Option<bool>("--dsr-fib")
        {
            Description = "DSR next hop by bpf_fib_lookup (run in a network namespace that routes 198.18.62.1 and .2, see vm-lab/dsr-stages.sh)",
        };
        var dsrMaxAge = new Option<int>("--dsr-nexthop-max-age-ms")
        {
            Description = "With --dsr-fib: age bound of the next-hop cache (SfcProxy:Dsr:NextHopMaxAgeMs); 0: bpf_fib_lookup per packet",
            DefaultValueFactory = _ => (int)DsrLimits.NexthopDefaultMaxAgeMs,
        };
        var command = new Command("bench", "Measure the datapath's per-packet cost against empty programs (BPF_PROG_TEST_RUN)")
        {
            packets, labels, sampleEvery, output, raw, dsrOnly, srv6Only, only, dsrObjects, dsrFib, dsrMaxAge,
        };
        command.SetAction(parseResult => Run(parseResult.GetValue(packets), parseResult.GetValue(labels)!,
            Math.Max(parseResult.GetValue(sampleEvery), 1u), parseResult.GetValue(output), parseResult.GetValue(raw),
            parseResult.GetValue(dsrOnly), parseResult.GetValue(srv6Only), parseResult.GetValue(only), parseResult.GetValue(dsrObjects), parseResult.GetValue(dsrFib), parseResult.GetValue(dsrMaxAge),
            parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error));
        return command;
    }

    private static int Run(int packets, int[] labels, uint sampleEvery, string? outputPath, string? rawDirectory, bool dsrOnly, bool srv6Only, string? only, string? dsrObjects,
        bool dsrFib, int dsrMaxAgeMs, TextWriter output, TextWriter error)
    {
        try
        {
            BpfEnvironment.EnsureReady(BpfPins.DefaultRoot);
            var clock = Stopwatch.StartNew();
            void Progress(string line) => error.WriteLine($"[{clock.Elapsed:mm\\:ss}] {line}");
            var dsrTable = srv6Only || only is not null ? "" : DsrBenchmark.ToMarkdown(DsrBenchmark.Run(packets, dsrObjects, Progress, dsrFib, (uint)Math.Max(dsrMaxAgeMs, 0)));
            string table;
            if (dsrOnly)
                table = dsrTable;
            else
            {
                var (rows, stages) = CoreBenchmark.Run(packets, labels, sampleEvery, Progress, rawDirectory, srv6Only, only);
                table = CoreBenchmark.ToMarkdown(rows, stages) + (srv6Only || only is not null ? "" : Environment.NewLine +
                    "IP-in-IP DSR load balancer, same run:" + Environment.NewLine + Environment.NewLine + dsrTable);
            }
            output.Write(table);
            if (outputPath is not null)
            {
                var header = $"Command: `sfcproxy bench --packets {packets}" + (only is not null ? $" --only \"{only}\"" : "") + (dsrOnly ? " --dsr-only" : srv6Only ? $" --srv6-only --latency-sample-every {sampleEvery}" : $" --labels {string.Join(' ', labels)} --latency-sample-every {sampleEvery}") + (dsrFib ? $" --dsr-fib --dsr-nexthop-max-age-ms {dsrMaxAgeMs}" : "") + "`  \n" +
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
