using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using SfcProxy.Configuration;

namespace SfcProxy.Control;

/// <summary>Asks a running instance one question over its control socket.</summary>
public static class ControlClient
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>Sends <c>{"request":"<paramref name="request"/>"}</c> and returns the response line.</summary>
    /// <param name="socketPath">The instance's socket.</param>
    /// <param name="instance">Instance name for messages; null when the socket was given directly.</param>
    /// <exception cref="ControlClientException">No answer; the message says why, for people.</exception>
    public static Task<string> RequestAsync(
        string socketPath, string request, string? instance, CancellationToken cancellationToken = default) =>
        RequestAsync(socketPath, new ControlRequest { Name = request }, instance, cancellationToken);

    /// <summary>Sends <paramref name="request"/> (with its arguments, e.g. "limit") and returns the response line.</summary>
    /// <exception cref="ControlClientException">No answer; the message says why, for people.</exception>
    internal static async Task<string> RequestAsync(
        string socketPath, ControlRequest request, string? instance, CancellationToken cancellationToken = default)
    {
        string who = instance is null ? "no SfcProxy instance running" : $"no SfcProxy instance '{instance}' running";
        if (!File.Exists(socketPath))
            throw new ControlClientException($"{who}: {socketPath} not found");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            using var socket = await ConnectAsync(socketPath, timeout.Token);
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            byte[] line = [.. JsonSerializer.SerializeToUtf8Bytes(request, ControlJsonContext.Default.ControlRequest), (byte)'\n'];
            await stream.WriteAsync(line, timeout.Token);
            using var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
            return await reader.ReadLineAsync(timeout.Token)
                   ?? throw new ControlClientException($"{socketPath}: the instance closed the connection without answering");
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            throw new ControlClientException($"{who}: {socketPath} is a stale socket (connection refused)", e);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new ControlClientException($"cannot connect to {socketPath}: permission denied (run as root or a member of the socket's group)", e);
        }
        catch (SocketException e)
        {
            throw new ControlClientException($"cannot talk to {socketPath}: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new ControlClientException($"cannot talk to {socketPath}: {e.Message}", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ControlClientException($"{socketPath}: no answer within {Timeout.TotalSeconds:0} s", e);
        }
    }

    /// <summary>Socket path of an instance with the default <c>Socket:Path</c>.</summary>
    public static string DefaultSocketPath(string instance) => ControlSocketOptions.DefaultPathFor(instance);

    /// <summary>
    /// Connects, retrying while the instance's accept queue is full (EAGAIN): a burst of other
    /// clients fills it for a moment, the daemon refusing them as fast as they come, and the
    /// liveness probe must not fail for it.
    /// </summary>
    private static async Task<Socket> ConnectAsync(string socketPath, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(5);
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                return socket;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.TryAgain)
            {
                socket.Dispose();
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.TicksPerMillisecond * 100));
        }
    }
}
