using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace SfcProxy.Control;

/// <summary>
/// One client connection: reads request lines, writes one answer line each. Memory per session is
/// bounded by <see cref="ControlProtocol.MaxLineBytes"/> of input plus one
/// <see cref="SessionOutput.ChunkBytes"/> chunk of output; a client that goes silent or stops
/// reading is dropped after the <see cref="ControlSessionLimits"/>.
/// </summary>
internal sealed partial class ControlSession(Socket socket, ControlRequestHandler handler, ControlSessionLimits limits, ILogger logger)
{
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        // Taken once: SO_PEERCRED describes whoever called connect(), which cannot change.
        var peer = PeerCredentials.Of(socket);
        var stream = new NetworkStream(socket, ownsSocket: true);
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, leaveOpen: true));
        var writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));
        var output = new SessionOutput(writer, limits.WriteTimeout, stoppingToken);
        try
        {
            bool open = true;
            while (open)
            {
                if (await ReadOrIdleAsync(reader, stoppingToken) is not { } result)
                {
                    LogIdle(peer.Uid, peer.Pid, limits.IdleTimeout.TotalSeconds);
                    output.Write(ControlRequestHandler.Error(
                        $"no request for {limits.IdleTimeout.TotalSeconds:0.###} s; closing connection"));
                    await output.FlushAsync();
                    break;
                }
                ReadOnlySequence<byte> buffer = result.Buffer;

                while (open && TryReadLine(ref buffer, out ReadOnlySequence<byte> line))
                    open = await AnswerAsync(line, peer, output, stoppingToken);

                if (open && buffer.Length > ControlProtocol.MaxLineBytes)
                    open = await AnswerAsync(buffer, peer, output, stoppingToken);
                else if (open && result.IsCompleted)
                {
                    // The client closed its side; answer a last line sent without a newline.
                    if (!buffer.IsEmpty)
                        await AnswerAsync(buffer, peer, output, stoppingToken);
                    open = false;
                }

                // Consumed up to the unfinished line, examined all of it: wait for more bytes.
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (TimeoutException e)
        {
            LogSlowReader(peer.Uid, peer.Pid, e.Message);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
        {
            // Host stopping or client gone: nothing to answer.
        }
        finally
        {
            // Socket first: completing the writer flushes, which must not wait on a client that
            // does not read.
            await stream.DisposeAsync();
            await CompleteQuietlyAsync(reader, writer);
        }
    }

    /// <returns>null when the client sent nothing for the idle timeout.</returns>
    private async Task<ReadResult?> ReadOrIdleAsync(PipeReader reader, CancellationToken stoppingToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        idle.CancelAfter(limits.IdleTimeout);
        try
        {
            return await reader.ReadAsync(idle.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Answers one line; false when the connection must close.</summary>
    private async Task<bool> AnswerAsync(ReadOnlySequence<byte> line, PeerCredentials peer, SessionOutput output, CancellationToken cancellationToken)
    {
        if (line.Length > ControlProtocol.MaxLineBytes)
        {
            output.Write(ControlRequestHandler.Error(
                $"request line longer than {ControlProtocol.MaxLineBytes} bytes; closing connection"));
            await output.FlushAsync();
            return false;
        }
        if (IsBlank(line))
            return true;
        await handler.AnswerAsync(line, peer, output, cancellationToken);
        await output.FlushAsync();
        return true;
    }

    private static async Task CompleteQuietlyAsync(PipeReader reader, PipeWriter writer)
    {
        try
        {
            await writer.CompleteAsync();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Unsent output of a dropped client.
        }
        await reader.CompleteAsync();
    }

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        SequencePosition? newline = buffer.PositionOf((byte)'\n');
        if (newline is null)
        {
            line = default;
            return false;
        }
        line = buffer.Slice(0, newline.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
        return true;
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            foreach (byte b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
                    return false;
            }
        }
        return true;
    }

    [LoggerMessage(EventId = 205, Level = LogLevel.Debug, Message = "Dropped control client uid {Uid} (pid {Pid}): idle for {Seconds} s")]
    private partial void LogIdle(uint uid, int pid, double seconds);

    [LoggerMessage(EventId = 206, Level = LogLevel.Information, Message = "Dropped control client uid {Uid} (pid {Pid}): {Reason}")]
    private partial void LogSlowReader(uint uid, int pid, string reason);
}
