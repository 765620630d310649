using System.Runtime.Versioning;

// eBPF, bpffs pins and Unix socket modes: the proxy only exists on Linux.
[assembly: SupportedOSPlatform("linux")]
