namespace SfcProxy.Control;

/// <summary>How long a control client may keep a session without taking part in it.</summary>
/// <param name="IdleTimeout">A client that sends no bytes for this long gets an error and is dropped.</param>
/// <param name="WriteTimeout">
/// A client that does not read its answers blocks our writes once the socket buffers are full; a
/// write blocked this long drops the session, so its unread output never grows past one chunk.
/// </param>
internal sealed record ControlSessionLimits(TimeSpan IdleTimeout, TimeSpan WriteTimeout)
{
    public static readonly ControlSessionLimits Default = new(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10));
}
