namespace SfcProxy.Control;

/// <summary>
/// At most one log line per interval for an event a client can cause at will (refused connections,
/// bad requests): the first one is logged, the rest are counted into the next line, so a hostile
/// client cannot fill the journal.
/// </summary>
internal sealed class LogThrottle(TimeSpan interval, TimeProvider time)
{
    private long _last = long.MinValue;
    private int _suppressed;

    /// <returns>true when this occurrence should be logged; <paramref name="suppressed"/> then says
    /// how many were not since the last line.</returns>
    public bool ShouldLog(out int suppressed)
    {
        lock (this)
        {
            var now = time.GetTimestamp();
            if (_last != long.MinValue && time.GetElapsedTime(_last, now) < interval)
            {
                _suppressed++;
                suppressed = 0;
                return false;
            }
            _last = now;
            suppressed = _suppressed;
            _suppressed = 0;
            return true;
        }
    }
}
