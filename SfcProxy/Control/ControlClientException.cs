namespace SfcProxy.Control;

/// <summary>The instance could not be asked: not running, stale socket, no permission, no answer.</summary>
public sealed class ControlClientException(string message, Exception? inner = null) : Exception(message, inner);
