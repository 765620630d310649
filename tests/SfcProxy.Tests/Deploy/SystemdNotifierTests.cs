using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SfcProxy.Hosting;

namespace SfcProxy.Tests.Deploy;

/// <summary>sd_notify against a datagram socket the test owns, named as systemd would in NOTIFY_SOCKET.</summary>
[TestClass]
public sealed class SystemdNotifierTests
{
    private sealed class NotifySocket : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

        public NotifySocket(bool isAbstract)
        {
            string name = $"sfcproxy-notify-{Guid.NewGuid():N}";
            Address = isAbstract ? "@" + name : Path.Combine(Path.GetTempPath(), name);
            _socket.Bind(new UnixDomainSocketEndPoint(isAbstract ? "\0" + name : Address));
            _socket.ReceiveTimeout = 5000;
        }

        /// <summary>The NOTIFY_SOCKET value.</summary>
        public string Address { get; }

        public string Receive()
        {
            byte[] buffer = new byte[4096];
            int n = _socket.Receive(buffer);
            return Encoding.UTF8.GetString(buffer, 0, n);
        }

        public void Dispose()
        {
            _socket.Dispose();
            if (!Address.StartsWith('@'))
                File.Delete(Address);
        }
    }

    private sealed class CountingHook : IReloadHook
    {
        public int Reloads;

        public void Reload() => Reloads++;
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void ReadyAndStoppingReachThePathOrAbstractSocket(bool isAbstract)
    {
        using var socket = new NotifySocket(isAbstract);
        var notifier = new SystemdNotifier(socket.Address);

        Assert.IsTrue(notifier.Ready());
        Assert.IsTrue(notifier.Stopping());

        Assert.AreEqual("READY=1", socket.Receive());
        Assert.AreEqual("STOPPING=1", socket.Receive());
    }

    [TestMethod]
    public void WithoutNotifySocketNothingIsSent()
    {
        var notifier = new SystemdNotifier(notifySocket: null);

        Assert.IsFalse(notifier.IsEnabled);
        Assert.IsFalse(notifier.Ready());
    }

    [TestMethod]
    public void AMissingSocketIsNotAnError()
    {
        var notifier = new SystemdNotifier("/tmp/no-such-notify-socket-" + Guid.NewGuid().ToString("N"));

        Assert.IsFalse(notifier.Ready());
    }

    [TestMethod]
    public async Task TheHostedServiceSaysReadyOnStartReloadingAroundAReloadAndStoppingOnStop()
    {
        using var socket = new NotifySocket(isAbstract: false);
        var hook = new CountingHook();
        using var notifications = new ServiceManagerNotifications(new SystemdNotifier(socket.Address), [hook],
            NullLogger<ServiceManagerNotifications>.Instance);

        await notifications.StartAsync(CancellationToken.None);
        notifications.Reload();
        await notifications.StopAsync(CancellationToken.None);

        Assert.AreEqual("READY=1\nSTATUS=proxying", socket.Receive());
        StringAssert.StartsWith(socket.Receive(), "RELOADING=1\nMONOTONIC_USEC=");
        Assert.AreEqual("READY=1\nSTATUS=proxying", socket.Receive());
        Assert.AreEqual("STOPPING=1", socket.Receive());
        Assert.AreEqual(1, hook.Reloads);
    }
}
