using System.Runtime.Versioning;

// The code under test is Linux-only (eBPF, Unix sockets with file modes).
[assembly: SupportedOSPlatform("linux")]
