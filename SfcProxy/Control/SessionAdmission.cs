namespace SfcProxy.Control;

/// <summary>
/// Who gets a control session: at most <see cref="ControlSessionLimits.MaxSessions"/> in all and
/// <see cref="ControlSessionLimits.MaxSessionsPerUser"/> per non-root user, and the last
/// <see cref="ControlSessionLimits.ReservedForRoot"/> for root alone, so that no member of the
/// socket's group, however many connections it opens, can lock root's `sfcproxy status` out.
/// </summary>
internal sealed class SessionAdmission(ControlSessionLimits limits)
{
    private readonly Dictionary<uint, int> _perUser = [];
    private int _total;

    public int Count
    {
        get
        {
            lock (_perUser)
                return _total;
        }
    }

    /// <returns>null when admitted (call <see cref="Release"/> when the session ends), else why not.</returns>
    public string? TryAdmit(PeerCredentials peer)
    {
        lock (_perUser)
        {
            if (_total >= limits.MaxSessions)
                return $"too many clients ({_total} sessions open); try again later";
            if (!peer.IsRoot)
            {
                if (_total >= limits.MaxSessions - limits.ReservedForRoot)
                    return $"too many clients (the last {limits.ReservedForRoot} sessions are kept for root); try again later";
                var mine = _perUser.GetValueOrDefault(peer.Uid);
                if (mine >= limits.MaxSessionsPerUser)
                    return $"too many clients: uid {peer.Uid} has {mine} sessions open, the most one user may have; close some and try again";
                _perUser[peer.Uid] = mine + 1;
            }
            _total++;
            return null;
        }
    }

    public void Release(PeerCredentials peer)
    {
        lock (_perUser)
        {
            _total--;
            if (!peer.IsRoot && _perUser.TryGetValue(peer.Uid, out var mine))
            {
                if (mine <= 1)
                    _perUser.Remove(peer.Uid);
                else
                    _perUser[peer.Uid] = mine - 1;
            }
        }
    }
}
