using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Win32.SafeHandles;
using SfcProxy.Hosting;

namespace SfcProxy.Dsr;

/// <summary>What of the load balancer's table the config file does not say, as kept across restarts:
/// the live changes, the removing backends (with their wall-clock times) and the services each
/// address left while still in others.</summary>
public sealed record DsrLiveState(
    IReadOnlyList<DsrLiveChange> Changes,
    IReadOnlyList<DsrSavedRemoval> Removing,
    IReadOnlyDictionary<IPAddress, IReadOnlyList<DsrServiceKey>> RemovedFrom)
{
    public static readonly DsrLiveState Empty = new([], [], new Dictionary<IPAddress, IReadOnlyList<DsrServiceKey>>());
}

/// <summary>A removing backend as saved: when it was removed, when a flow last used it (wall clock, so
/// its idle deadline survives a restart) and its packet counter then.</summary>
public sealed record DsrSavedRemoval(IReadOnlyList<DsrServiceKey> Services, IPAddress Address, DateTimeOffset Since,
    DateTimeOffset LastActive, ulong Packets);

/// <summary>The state file cannot be read or is not one this daemon writes.</summary>
public sealed class DsrStateFileException(string path, string reason, Exception? inner = null)
    : Exception($"DSR state file {path}: {reason}", inner)
{
    public string FilePath { get; } = path;
}

/// <summary>
/// The DSR live state file of one instance, <c>&lt;StateDirectory&gt;/&lt;Instance&gt;/dsr-live.json</c>
/// (bpffs holds no plain files, so it cannot live beside the pins). Written on every live change
/// before the change is answered, atomically: a new file beside it, fsync, rename over it, fsync of
/// the directory, so a crash or kill -9 at any moment leaves the old file or the new one, whole.
/// Never written or read through a symlink (O_EXCL on the new file, the rename replaces the name).
/// </summary>
public sealed class DsrLiveStore(string path, string instance)
{
    public const string FileName = "dsr-live.json";
    private const int Version = 1;
    private const long MaxBytes = 16 << 20;

    public string Path { get; } = path;

    /// <summary>The file of an instance under a state directory.</summary>
    public static string PathFor(string stateDirectory, string instance) => System.IO.Path.Combine(stateDirectory, instance, FileName);

    /// <summary>The saved state, or null when there is no file.</summary>
    /// <exception cref="DsrStateFileException">The file is there but cannot be read or is not a state file.</exception>
    public DsrLiveState? Load()
    {
        byte[] bytes;
        try
        {
            var status = FileStatus.Of(Path);
            if (status is null)
                return null;
            if (status.Value.Kind != UnixFileKind.Regular)
                throw new DsrStateFileException(Path, $"is a {status.Value.Kind.ToString().ToLowerInvariant()}, not a file");
            using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read);
            if (stream.Length > MaxBytes)
                throw new DsrStateFileException(Path, $"{stream.Length} bytes, more than a state file holds ({MaxBytes})");
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DsrStateFileException(Path, $"cannot be read: {e.Message}", e);
        }
        StateFile? file;
        try
        {
            file = JsonSerializer.Deserialize(bytes, DsrStateJsonContext.Default.StateFile);
        }
        catch (JsonException e)
        {
            throw new DsrStateFileException(Path, $"not valid JSON ({e.Message})", e);
        }
        return FromFile(file ?? throw new DsrStateFileException(Path, "empty (null)"));
    }

    /// <summary>Replaces the file with <paramref name="state"/> (see the class remarks).</summary>
    /// <exception cref="IOException">Not written; the file as it was is still there.</exception>
    public void Save(DsrLiveState state, DateTimeOffset now)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(ToFile(state, now), DsrStateJsonContext.Default.StateFile);
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var temporary = System.IO.Path.Combine(directory, $".{FileName}.{Environment.ProcessId}.{System.IO.Path.GetRandomFileName()}");
        try
        {
            // CreateNew is O_CREAT|O_EXCL: never opens what is already there, symlink or not.
            using (var stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                stream.Write(bytes);
                stream.Write("\n"u8);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, Path, overwrite: true);
            SyncDirectory(directory);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException(e.Message, e);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Removes the file (nothing live left to keep), and the instance's directory if that leaves it empty.</summary>
    /// <exception cref="IOException">Not removed.</exception>
    public void Delete()
    {
        if (FileStatus.Of(Path) is null)
            return;
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        File.Delete(Path);
        SyncDirectory(directory);
        if (!Directory.EnumerateFileSystemEntries(directory).Any())
        {
            try { Directory.Delete(directory); }
            catch (IOException) { } // something was put there meanwhile: it stays
        }
    }

    /// <summary>fsync of the directory: the rename itself survives a power cut.</summary>
    private static void SyncDirectory(string directory)
    {
        using var fd = new SafeFileHandle(Interop.Libc.open(directory, Interop.Libc.O_RDONLY | Interop.Libc.O_DIRECTORY | Interop.Libc.O_CLOEXEC, 0), ownsHandle: true);
        if (fd.IsInvalid || Interop.Libc.fsync((int)fd.DangerousGetHandle()) != 0)
            throw new IOException($"fsync {directory}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }

    private StateFile ToFile(DsrLiveState state, DateTimeOffset now) => new(
        Version, instance, Time(now),
        [.. state.Changes.Select(c => new StateChange(c.Service.Vip.ToString(), c.Service.Port, DsrOptions.ProtocolName(c.Service.Protocol),
            c.Address.ToString(), c.Weight, c.ConfigWeight, Time(c.At)))],
        [.. state.Removing.Select(r => new StateRemoval(r.Address.ToString(), [.. r.Services.Select(Service)], Time(r.Since), Time(r.LastActive), r.Packets))],
        [.. state.RemovedFrom.Select(kv => new StateRemovedFrom(kv.Key.ToString(), [.. kv.Value.Select(Service)]))]);

    private DsrLiveState FromFile(StateFile file)
    {
        if (file.Version != Version)
            throw Bad($"version {file.Version}; this daemon reads version {Version}");
        if (file.Instance != instance)
            throw Bad($"written for instance '{file.Instance}', not '{instance}'");
        var changes = (file.Changes ?? []).Select((c, i) =>
        {
            var at = $"changes[{i}]";
            var weight = c.Weight is { } w ? Weight(w, $"{at}.weight") : (uint?)null;
            var configWeight = c.ConfigWeight is { } cw ? Weight(cw, $"{at}.configWeight") : (uint?)null;
            return new DsrLiveChange(Service(new StateService(c.Vip, c.Port, c.Protocol), at), Address(c.Address, $"{at}.address"),
                weight, configWeight, Time(c.At, $"{at}.at"));
        }).ToList();
        var removing = (file.Removing ?? []).Select((r, i) =>
        {
            var at = $"removing[{i}]";
            return new DsrSavedRemoval(Services(r.Services, at), Address(r.Address, $"{at}.address"),
                Time(r.RemovedAt, $"{at}.removedAt"), Time(r.LastActiveAt, $"{at}.lastActiveAt"), r.Packets);
        }).ToList();
        var removedFrom = new Dictionary<IPAddress, IReadOnlyList<DsrServiceKey>>();
        foreach (var (r, i) in (file.RemovedFrom ?? []).Select((r, i) => (r, i)))
            removedFrom[Address(r.Address, $"removedFrom[{i}].address")] = Services(r.Services, $"removedFrom[{i}]");
        var twice = changes.GroupBy(c => (c.Service, c.Address)).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
            throw Bad($"two changes of backend {twice.Key.Address} in service {twice.Key.Service}");
        return new DsrLiveState(changes, removing, removedFrom);
    }

    private DsrStateFileException Bad(string reason) => new(Path, reason);

    private static StateService Service(DsrServiceKey k) => new(k.Vip.ToString(), k.Port, DsrOptions.ProtocolName(k.Protocol));

    private List<DsrServiceKey> Services(List<StateService>? services, string at) =>
        [.. (services ?? throw Bad($"{at}.services missing")).Select((s, i) => Service(s, $"{at}.services[{i}]"))];

    private DsrServiceKey Service(StateService s, string at)
    {
        if (s.Port is not (>= 1 and <= 65535))
            throw Bad($"{at}.port {s.Port}: not 1..65535");
        if (DsrOptions.ProtocolNumber(s.Protocol) is not { } protocol)
            throw Bad($"{at}.protocol '{s.Protocol}': not tcp or udp");
        return new DsrServiceKey(Address(s.Vip, $"{at}.vip"), (ushort)s.Port, protocol);
    }

    // Addresses stay text in the file and any family parses: the format does not change with IPv6.
    private IPAddress Address(string? text, string at) =>
        text is not null && IPAddress.TryParse(text, out var a) ? a : throw Bad($"{at} '{text}': not an IP address");

    private uint Weight(long w, string at) => w is >= 0 and <= 65535 ? (uint)w : throw Bad($"{at} {w}: not 0..65535");

    private DateTimeOffset Time(string? text, string at) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : throw Bad($"{at} '{text}': not a time");

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    // The file's shapes: addresses and protocols as text, times ISO 8601 UTC. weight null: removed
    // from the service; configWeight null: the config did not list the backend there.
    internal sealed record StateFile(int Version, string? Instance, string? SavedAt, List<StateChange>? Changes,
        List<StateRemoval>? Removing, List<StateRemovedFrom>? RemovedFrom);

    internal sealed record StateService(string? Vip, int Port, string? Protocol);

    internal sealed record StateChange(string? Vip, int Port, string? Protocol, string? Address, long? Weight, long? ConfigWeight, string? At);

    internal sealed record StateRemoval(string? Address, List<StateService>? Services, string? RemovedAt, string? LastActiveAt, ulong Packets);

    internal sealed record StateRemovedFrom(string? Address, List<StateService>? Services);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(DsrLiveStore.StateFile))]
internal sealed partial class DsrStateJsonContext : JsonSerializerContext;
