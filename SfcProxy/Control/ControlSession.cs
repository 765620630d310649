using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace SfcProxy.Control;

/// <summary>
/// One client connection: reads request lines, writes one response line each. Memory per session is
/// bounded by <see cref="ControlProtocol.MaxLineBytes"/> plus one read buffer.
/// </summary>
internal sealed class ControlSession(Socket socket, ControlRequestHandler handler)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, leaveOpen: true));
        try
        {
            bool open = true;
            while (open)
            {
                ReadResult result = await reader.ReadAsync(cancellationToken);
                ReadOnlySequence<byte> buffer = result.Buffer;

                while (open && TryReadLine(ref buffer, out ReadOnlySequence<byte> line))
                    open = await AnswerAsync(stream, line, cancellationToken);

                if (open && buffer.Length > ControlProtocol.MaxLineBytes)
                    open = await AnswerAsync(stream, buffer, cancellationToken);
                else if (open && result.IsCompleted)
                {
                    // The client closed its side; answer a last line sent without a newline.
                    if (!buffer.IsEmpty)
                        await AnswerAsync(stream, buffer, cancellationToken);
                    open = false;
                }

                // Consumed up to the unfinished line, examined all of it: wait for more bytes.
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
        {
            // Host stopping or client gone: nothing to answer.
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    /// <summary>Answers one line; false when the connection must close.</summary>
    private async Task<bool> AnswerAsync(NetworkStream stream, ReadOnlySequence<byte> line, CancellationToken cancellationToken)
    {
        if (line.Length > ControlProtocol.MaxLineBytes)
        {
            byte[] error = ControlRequestHandler.Error(
                $"request line longer than {ControlProtocol.MaxLineBytes} bytes; closing connection");
            await stream.WriteAsync(error, cancellationToken);
            return false;
        }
        if (IsBlank(line))
            return true;
        await stream.WriteAsync(handler.Handle(line), cancellationToken);
        return true;
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
}
