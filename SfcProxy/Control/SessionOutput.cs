using System.Buffers;
using System.IO.Pipelines;

namespace SfcProxy.Control;

/// <summary>
/// A session's answers on their way to the client. Answers are pushed out after each line and, for
/// long answers, every <see cref="ChunkBytes"/>; a push the client does not take within the write
/// timeout ends the session with <see cref="TimeoutException"/>.
/// </summary>
internal sealed class SessionOutput(PipeWriter writer, TimeSpan writeTimeout, CancellationToken stopping)
{
    /// <summary>Most answer bytes a session holds before pushing them to the socket.</summary>
    public const int ChunkBytes = 64 * 1024;

    public PipeWriter Writer => writer;

    public void Write(ReadOnlySpan<byte> bytes) => writer.Write(bytes);

    public async ValueTask FlushAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(writeTimeout);
        try
        {
            await writer.FlushAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            throw new TimeoutException($"the client took no output for {writeTimeout.TotalSeconds:0.###} s");
        }
    }
}
