using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Bpf;
using SfcProxy.Configuration;

namespace SfcProxy.Dsr;

/// <summary>
/// The DSR load balancer in the kernel: dsr_lb at XDP of <c>SfcProxy:Dsr:Interface</c>, its maps
/// pinned under &lt;PinRoot&gt;/&lt;Instance&gt;-dsr/. The first <see cref="Apply"/> loads the
/// object, writes the config, swaps the tables in and only then attaches, so no packet meets the
/// program before it has tables. Disposing detaches and removes the pins (connection table included).
/// </summary>
public sealed partial class BpfDsrDatapath : IDsrDatapath, IDisposable
{
    private readonly string _pinName;
    private readonly string _pinRoot;
    private readonly DsrSettings _settings;
    private readonly string? _interface;
    private readonly XdpAttachMode _mode;
    private readonly string? _objectDirectory;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private BpfLink? _link;
    private DsrObjects? _objects;

    public BpfDsrDatapath(IOptions<SfcProxyOptions> options, ILogger<BpfDsrDatapath> log)
        : this($"{options.Value.Instance}-dsr", options.Value.PinRoot, options.Value.Dsr.ToSettings(), options.Value.Dsr.Interface,
            options.Value.Dsr.XdpMode == XdpMode.Generic ? XdpAttachMode.Generic : XdpAttachMode.Native, log)
    {
    }

    /// <param name="attachTo">Interface for XDP; null loads and fills the maps without attaching (tests run the program with BPF_PROG_TEST_RUN).</param>
    internal BpfDsrDatapath(string pinName, string pinRoot, DsrSettings settings, string? attachTo, XdpAttachMode mode, ILogger log,
        string? objectDirectory = null)
    {
        (_pinName, _pinRoot, _settings, _interface, _mode, _log, _objectDirectory) = (pinName, pinRoot, settings, attachTo, mode, log, objectDirectory);
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

    public void Apply(DsrTables tables)
    {
        lock (_gate)
        {
            if (_objects is null)
            {
                BpfEnvironment.EnsureReady(_pinRoot);
                var objects = DsrObjects.Load(new BpfPins(_pinName, _pinRoot), _objectDirectory);
                try
                {
                    objects.WriteConfig(_settings);
                }
                catch
                {
                    objects.Dispose();
                    objects.Pins.Remove();
                    throw;
                }
                _objects = objects;
            }
            _objects.Apply(tables);
            if (_link is null && _interface is not null)
            {
                _link = _objects.AttachXdp(_interface, _mode);
                LogAttached(_interface, _mode.ToString().ToLowerInvariant(), _objects.Pins.Directory);
            }
        }
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
            _link?.Dispose();
            _link = null;
            PinnedObjects.Unload(ref _objects);
        }
    }

    [LoggerMessage(EventId = Hosting.EventIds.DsrAttached, Level = LogLevel.Information, Message = "dsr_lb attached at XDP ({Mode}) of {Interface}; maps pinned in {PinDirectory}")]
    private partial void LogAttached(string @interface, string mode, string pinDirectory);
}
