using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Bpf;
using SfcProxy.Configuration;

namespace SfcProxy.Dsr;

/// <summary>
/// The DSR load balancer in the kernel: dsr_lb at XDP of <c>SfcProxy:Dsr:Interface</c>, its maps
/// pinned under &lt;PinRoot&gt;/&lt;Instance&gt;-dsr/. The first <see cref="Apply"/> loads the
/// object, writes the config, swaps the tables in and only then attaches, so no packet meets the
/// program before it has tables. The XDP link is pinned (<c>link_dsr_lb@&lt;interface&gt;</c>), so the
/// load balancer outlives a killed daemon with its connection table, and a starting daemon takes a
/// pinned link over with <c>bpf_link</c> update (atomic: every packet meets the old program or the new,
/// on the same maps). Disposing detaches and removes the pins (connection table included), or with
/// <c>DetachOnStop</c> false leaves all of it for the next daemon.
/// </summary>
public sealed partial class BpfDsrDatapath : IDsrDatapath, IDisposable
{
    private readonly string _pinName;
    private readonly string _pinRoot;
    private readonly DsrSettings _settings;
    private readonly string? _interface;
    private readonly XdpAttachMode _mode;
    private readonly string? _objectDirectory;
    private readonly bool _detachOnStop;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private BpfLink? _link;
    private DsrObjects? _objects;

    public BpfDsrDatapath(IOptions<SfcProxyOptions> options, ILogger<BpfDsrDatapath> log)
        : this($"{options.Value.Instance}-dsr", options.Value.PinRoot, options.Value.Dsr.ToSettings(), options.Value.Dsr.Interface,
            options.Value.Dsr.XdpMode == XdpMode.Generic ? XdpAttachMode.Generic : XdpAttachMode.Native, log,
            detachOnStop: options.Value.DetachOnStop)
    {
    }

    /// <summary>Pin name prefix of the XDP link; the interface follows the '@'.</summary>
    internal const string LinkPinPrefix = "link_dsr_lb@";

    /// <param name="attachTo">Interface for XDP; null loads and fills the maps without attaching (tests run the program with BPF_PROG_TEST_RUN).</param>
    internal BpfDsrDatapath(string pinName, string pinRoot, DsrSettings settings, string? attachTo, XdpAttachMode mode, ILogger log,
        string? objectDirectory = null, bool detachOnStop = true)
    {
        (_pinName, _pinRoot, _settings, _interface, _mode, _log, _objectDirectory) = (pinName, pinRoot, settings, attachTo, mode, log, objectDirectory);
        _detachOnStop = detachOnStop;
    }

    /// <summary>The loaded objects (tests run packets through them).</summary>
    internal DsrObjects Objects
    {
        get
        {
            lock (_gate)
                return _objects ?? throw new InvalidOperationException("no DSR tables applied yet");
        }
    }

    public DsrTables? ReadInstalled()
    {
        lock (_gate)
            return Loaded().ReadInstalled();
    }

    public void Apply(DsrTables tables)
    {
        lock (_gate)
        {
            var objects = Loaded();
            objects.Apply(tables);
            if (_link is null && _interface is not null)
                _link = AttachOrTakeOver(objects, _interface);
        }
    }

    /// <summary>Loads the object (maps pinned by an earlier daemon reused) and writes the settings.</summary>
    private DsrObjects Loaded()
    {
        if (_objects is not null)
            return _objects;
        BpfEnvironment.EnsureReady(_pinRoot);
        var pins = new BpfPins(_pinName, _pinRoot);
        bool existed = pins.Exists;
        var objects = DsrObjects.Load(pins, _objectDirectory);
        try
        {
            objects.WriteConfig(_settings);
        }
        catch
        {
            objects.Dispose();
            if (!existed)
                objects.Pins.Remove();
            throw;
        }
        return _objects = objects;
    }

    /// <summary>Swaps this daemon's program into a link an earlier one pinned on <paramref name="ifname"/>,
    /// or attaches and pins a new one; pinned links on other interfaces (the interface changed) go.</summary>
    private BpfLink AttachOrTakeOver(DsrObjects objects, string ifname)
    {
        var pin = objects.Pins.Path(LinkPinPrefix + ifname);
        BpfLink link;
        if (File.Exists(pin))
        {
            link = BpfLink.OpenPinned(pin);
            try
            {
                link.Update(objects.Program);
            }
            catch
            {
                link.Dispose();
                throw;
            }
            LogTakenOver(ifname, pin);
        }
        else
        {
            link = objects.AttachXdp(ifname, _mode);
            try
            {
                link.Pin(pin);
            }
            catch
            {
                link.Dispose();
                throw;
            }
            LogAttached(ifname, _mode.ToString().ToLowerInvariant(), objects.Pins.Directory);
        }
        foreach (var other in Directory.EnumerateFiles(objects.Pins.Directory, LinkPinPrefix + "*").Where(p => p != pin))
            File.Delete(other);
        return link;
    }

    public IReadOnlyDictionary<DsrCounter, ulong> ReadCounters() => Objects.ReadCounters();

    public DsrTraffic ReadBackendTraffic(uint backendId) => Objects.ReadBackendTraffic(backendId);

    public DsrTraffic ReadServiceTraffic(uint serviceId) => Objects.ReadServiceTraffic(serviceId);

    public IReadOnlyDictionary<uint, int> CountConnections() => Objects.CountConnections();

    public int DeleteConnections(uint backendId) => Objects.DeleteConnections(backendId);

    public void Dispose()
    {
        lock (_gate)
        {
            if (_detachOnStop)
            {
                _link?.Unpin();
                _link?.Dispose();
                _link = null;
                PinnedObjects.Unload(ref _objects);
                return;
            }
            // DetachOnStop false: the pinned link keeps dsr_lb attached on the pinned maps (the
            // connection table with them) for the next daemon.
            _link?.Dispose();
            _link = null;
            if (_objects is null)
                return;
            LogLeftAttached(_objects.Pins.Directory);
            _objects.Dispose();
            _objects = null;
        }
    }

    [LoggerMessage(EventId = Hosting.EventIds.DsrAttached, Level = LogLevel.Information, Message = "dsr_lb attached at XDP ({Mode}) of {Interface}; maps pinned in {PinDirectory}")]
    private partial void LogAttached(string @interface, string mode, string pinDirectory);

    [LoggerMessage(EventId = Hosting.EventIds.DsrTakenOver, Level = LogLevel.Information, Message = "dsr_lb on {Interface} taken over: the new program swapped into the pinned link {Pin}, the maps (connection table included) reused")]
    private partial void LogTakenOver(string @interface, string pin);

    [LoggerMessage(EventId = Hosting.EventIds.DsrLeftAttached, Level = LogLevel.Information, Message = "dsr_lb left attached (DetachOnStop false); pins in {PinDirectory}")]
    private partial void LogLeftAttached(string pinDirectory);
}
