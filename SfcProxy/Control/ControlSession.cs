using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace SfcProxy.Control;

/// <summary>
/// One client connection: reads request lines, writes one answer line each. Memory per session is
/// bounded by <see cref="ControlProtocol.MaxLineBytes"/> of input plus one
/// <see cref="SessionOutput.ChunkBytes"/> chunk of output; a client that sends no complete request
/// in time (silent, or trickling bytes that never end a line) or stops reading is dropped after the
/// <see cref="ControlSessionLimits"/>.
/// </summary>
internal sealed partial class ControlSession(
    Socket socket, PeerCredentials peer, ControlRequestTable requests, ControlSessionLimits limits, ILogger logger)
{
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var stream = new NetworkStream(socket, ownsSocket: true);
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, leaveOpen: true));
        var writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));
        var output = new SessionOutput(writer, limits.WriteTimeout, stoppingToken);
        // The deadline for the next complete request: re-armed by an answer, never by bytes alone.
        var deadline = RequestDeadline(stoppingToken);
        try
        {
            bool open = true;
            while (open)
            {
                ReadResult result;
                try
                {
                    result = await reader.ReadAsync(deadline.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    LogNoRequest(peer.Uid, peer.Pid, limits.RequestTimeout.TotalSeconds);
                    output.Write(ControlAnswer.Error(
                        $"no complete request for {limits.RequestTimeout.TotalSeconds:0.###} s; closing connection"));
                    await output.FlushAsync();
                    break;
                }
                ReadOnlySequence<byte> buffer = result.Buffer;
                var answered = false;

                while (open && TryReadLine(ref buffer, out ReadOnlySequence<byte> line))
                {
                    open = await AnswerAsync(line, output, stoppingToken);
                    answered = true;
                }

                if (open && buffer.Length > ControlProtocol.MaxLineBytes)
                    open = await AnswerAsync(buffer, output, stoppingToken);
                else if (open && result.IsCompleted)
                {
                    // The client closed its side; answer a last line sent without a newline.
                    if (!buffer.IsEmpty)
                        await AnswerAsync(buffer, output, stoppingToken);
                    open = false;
                }

                // Consumed up to the unfinished line, examined all of it: wait for more bytes.
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (answered)
                {
                    deadline.Dispose();
                    deadline = RequestDeadline(stoppingToken);
                }
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
            deadline.Dispose();
            // Socket first: completing the writer flushes, which must not wait on a client that
            // does not read.
            await stream.DisposeAsync();
            await CompleteQuietlyAsync(reader, writer);
        }
    }

    private CancellationTokenSource RequestDeadline(CancellationToken stoppingToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        deadline.CancelAfter(limits.RequestTimeout);
        return deadline;
    }

    /// <summary>Answers one line; false when the connection must close. A request that fails in an
    /// unexpected way gets an error line and the session goes on.</summary>
    private async Task<bool> AnswerAsync(ReadOnlySequence<byte> line, SessionOutput output, CancellationToken cancellationToken)
    {
        if (line.Length > ControlProtocol.MaxLineBytes)
        {
            output.Write(ControlAnswer.Error(
                $"request line longer than {ControlProtocol.MaxLineBytes} bytes; closing connection"));
            await output.FlushAsync();
            return false;
        }
        if (IsBlank(line))
            return true;
        try
        {
            await requests.AnswerAsync(line, peer, output, cancellationToken);
        }
        catch (Exception e) when (e is not (OperationCanceledException or IOException or SocketException or TimeoutException))
        {
            LogRequestFailed(peer.Uid, peer.Pid, e.GetType().Name, e.Message);
            output.Write(ControlAnswer.Error($"the request failed: {e.Message}"));
        }
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

    [LoggerMessage(EventId = SfcProxy.Hosting.EventIds.NoRequest, Level = LogLevel.Debug, Message = "Dropped control client uid {Uid} (pid {Pid}): no complete request for {Seconds} s")]
    private partial void LogNoRequest(uint uid, int pid, double seconds);

    [LoggerMessage(EventId = SfcProxy.Hosting.EventIds.RequestFailed, Level = LogLevel.Warning,
        Message = "A request of control client uid {Uid} (pid {Pid}) failed: {Error}: {Reason}; answered with an error, session kept")]
    private partial void LogRequestFailed(uint uid, int pid, string error, string reason);

    [LoggerMessage(EventId = SfcProxy.Hosting.EventIds.SlowReader, Level = LogLevel.Information, Message = "Dropped control client uid {Uid} (pid {Pid}): {Reason}")]
    private partial void LogSlowReader(uint uid, int pid, string reason);
}
