using SfcProxy.Proxy.Datapath;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy.Datapath.Contract;

/// <summary>One broken promise: what went in, what the contract accepts, what came out.</summary>
internal sealed record Violation(string Kind, int Episode, string Packet, string Expected, string Got, string Detail)
{
    public override string ToString() => Format(int.MaxValue);

    /// <summary>The violation with every field cut to <paramref name="width"/> characters (frames in hex are long).</summary>
    public string Format(int width) =>
        $"[{Kind}] episode {Episode}: {Cut(Packet, width)}{Environment.NewLine}" +
        $"    expected: {Cut(Expected, width)}{Environment.NewLine}" +
        $"    got:      {Cut(Got, width)}" +
        (Detail.Length > 0 ? $"{Environment.NewLine}    {Cut(Detail, width)}" : "");

    private static string Cut(string s, int width) => s.Length <= width ? s : $"{s[..width]}... ({s.Length} chars)";
}

/// <summary>
/// Judges every run of xdp_rx and tc_tx against the contract. It knows, per packet, the headers it
/// must come back with (<see cref="Expected"/>), what the VNF did to it, and which counted verdicts
/// that makes acceptable; and, to accept a refusal at ingress, which packets may still hold a cache
/// entry (popped, not yet found at the egress, not aged). It knows nothing of keys, slots or hashes:
/// "may hold an entry" and "cannot be told apart" are said of packets, never of the datapath's state.
/// </summary>
internal sealed class Judge
{
    /// <summary>Outcome counters of xdp_rx: exactly one moves by one per run.</summary>
    public static readonly Counter[] RxOutcomes =
    [
        Counter.RxPopped, Counter.RxDuplicateKey, Counter.RxNotSfc, Counter.RxTruncated, Counter.RxTooManyLabels,
        Counter.RxNotIp, Counter.RxCacheFull, Counter.RxError, Counter.RxNshBadVersion, Counter.RxNshBadMdType,
        Counter.RxNshBadLength, Counter.RxNshBadNextProto, Counter.RxNshBadTlv, Counter.RxKeyConflict,
        Counter.RxSrv6NotSid, Counter.RxSrv6NoSrh, Counter.RxSrv6NotSrh, Counter.RxSrv6SlZero, Counter.RxSrv6BadSrh,
        Counter.RxSrv6BadLength, Counter.RxSrv6TooLong, Counter.RxSrv6BadTlv, Counter.RxSrv6BadInner,
    ];

    /// <summary>Outcome counters of tc_tx: exactly one moves by one per run.</summary>
    public static readonly Counter[] TxOutcomes =
    [
        Counter.TxRestored, Counter.TxRestoredLast, Counter.TxNotIp, Counter.TxMissDrop, Counter.TxMissPass,
        Counter.TxMissStatic, Counter.TxTtlExpired, Counter.TxGso, Counter.TxMalformed, Counter.TxError,
        Counter.TxSiExhausted, Counter.TxTooBig,
    ];

    /// <summary>Detail counters whose moves follow from the outcome (README "What happens to each packet", "NSH", docs/srv6.md).</summary>
    private static readonly Counter[] CheckedDetail =
        [Counter.LabelsPopped, Counter.LabelsPushed, Counter.NshPopped, Counter.NshRestored, Counter.NshOam, Counter.MarkSet, Counter.MarkNoMeta,
            Counter.Srv6Popped, Counter.Srv6Restored];

    private const int RecentPackets = 4096;

    private readonly KeyMode _mode;
    private readonly ulong _maxAgeNs;
    private readonly int _capacity;
    /// <summary>Header-hash: popped packets that may still hold an entry, by their inner packet without
    /// the fields a VNF rewrites (packets equal there may be impossible to tell apart).</summary>
    private readonly Dictionary<string, List<ContractPacket>> _similar = [];
    private int _similarCount;
    /// <summary>Metadata: popped packets not yet found at the egress, in pop order.</summary>
    private readonly LinkedList<(ContractPacket P, long RxRun)> _unreleased = [];
    private readonly ContractPacket?[] _recent = new ContractPacket?[RecentPackets];
    private int _recentNext;
    private long _rxRuns;
    /// <summary>Cutoffs of the aging sweeps run so far (for failure messages).</summary>
    private readonly List<ulong> _cutoffs = [];

    public Judge(KeyMode mode, ulong maxAgeNs, int capacity)
    {
        _mode = mode;
        _maxAgeNs = maxAgeNs;
        _capacity = capacity;
    }

    public List<Violation> Violations { get; } = [];
    public ContractStats Stats { get; } = new();

    private bool Hash => _mode == KeyMode.HeaderHash;

    // ------------------------------------------------------------------ xdp_rx

    public void Rx(ContractPacket x, RxRun run, ulong[] delta, EgressConfig cfg, int episode)
    {
        _rxRuns++;
        x.RxRan = true;
        x.Episode = episode;
        var outcome = Outcome(delta, RxOutcomes, TxOutcomes, "xdp_rx", episode, x.Describe());
        x.RxOutcome = outcome;
        Stats.Rx(x, outcome);
        if (outcome is not { } got)
            return;

        var frameEncap = FrameEncap(x.Frame, cfg);
        Counter[] acceptable;
        string why;
        if (frameEncap == Encapsulation.None && cfg.Accepts(Encapsulation.Srv6) && RoutingHeaderFirst(x.Frame))
        {
            // docs/srv6.md: IPv6 with a routing header to an address that is no proxy SID passes
            // untouched, counted rx_srv6_not_sid
            acceptable = [Counter.RxSrv6NotSid];
            why = "SRv6 for another node";
        }
        else if (frameEncap == Encapsulation.None || !cfg.Accepts(frameEncap))
        {
            acceptable = [Counter.RxNotSfc];
            why = frameEncap == Encapsulation.None ? "not SFC" : $"{frameEncap} not accepted ({cfg})";
        }
        else if (x.RxExpected is { } c)
        {
            acceptable = [c];
            why = $"malformed on purpose: {x.Shape}";
        }
        else
        {
            (acceptable, why) = AcceptableSfc(x);
        }

        if (!acceptable.Contains(got))
            Add("rx outcome", episode, x, $"{string.Join(" or ", acceptable)} ({why})", $"{got}", InputHex(x));

        // What each outcome does to the frame.
        var popped = got is Counter.RxPopped or Counter.RxDuplicateKey;
        if (got is Counter.RxNotSfc or Counter.RxSrv6NotSid or Counter.RxSrv6NoSrh)
        {
            if (run.Verdict != ProxyTestRuns.XdpPass || !run.Frame.AsSpan().SequenceEqual(x.Frame) || run.MetaKey is not null)
                Add("rx frame", episode, x, "XDP_PASS, the frame untouched, no metadata", $"verdict {run.Verdict}, frame {Wire.Hex(run.Frame)}", InputHex(x));
        }
        else if (popped && x.Headers is not null)
        {
            var want = x.ExpectedPopped();
            if (run.Verdict is not (ProxyTestRuns.XdpPass or ProxyTestRuns.XdpRedirect) || !run.Frame.AsSpan().SequenceEqual(want))
                Add("rx frame", episode, x, $"XDP_PASS/REDIRECT with {Wire.Hex(want)}", $"verdict {run.Verdict}, frame {Wire.Hex(run.Frame)}", InputHex(x));
            if (_mode == KeyMode.Metadata && run.MetaKey is null)
                Add("rx frame", episode, x, "the key in the XDP metadata", "no metadata", InputHex(x));
            x.Popped = true;
            Remember(x);
        }
        else if (run.Verdict != ProxyTestRuns.XdpDrop)
        {
            Add("rx frame", episode, x, $"XDP_DROP for {got}", $"verdict {run.Verdict}", InputHex(x));
        }

        var mpls = popped && x.Headers is MplsHeaders m ? m.Stack.Length : 0;
        var nsh = popped && x.Headers is NshHeaders;
        var srv6 = popped && x.Headers is Srv6Headers;
        CheckDetail(delta, episode, x.Describe(),
            (Counter.LabelsPopped, (ulong)mpls), (Counter.NshPopped, nsh ? 1UL : 0), (Counter.NshOam, nsh && ((NshHeaders)x.Headers!).Oam ? 1UL : 0),
            (Counter.Srv6Popped, srv6 ? 1UL : 0));
    }

    /// <summary>
    /// Acceptable xdp_rx outcomes for a well-formed SFC packet of an accepted encapsulation: popped;
    /// in header-hash mode joined (rx_duplicate_key) when a packet that may be indistinguishable and
    /// has the same headers may hold an entry, refused (rx_key_conflict) when one with other headers
    /// may, and only refused when an identical one with other headers certainly does; in metadata
    /// mode refused when a fragment of its datagram with other headers was popped; cache full only
    /// when the cache can be full.
    /// </summary>
    private (Counter[] Acceptable, string Why) AcceptableSfc(ContractPacket x)
    {
        var ok = new List<Counter>();
        var why = new List<string>();
        if (Hash)
        {
            var similar = _similar.TryGetValue(x.NormalKey, out var list) ? list : [];
            // certainly cached: no emission of it has met an entry yet (with a joined copy, the entry
            // outlives the first use, but then the copy is in the list as well)
            var identicalOther = similar.FirstOrDefault(p => p.IpKey == x.IpKey && !p.SameHeaders(x) && !p.EntryUsed);
            if (identicalOther is not null)
            {
                ok.Add(Counter.RxKeyConflict);
                why.Add($"identical to #{identicalOther.Id}, in the VNF with other headers");
            }
            else
            {
                ok.Add(Counter.RxPopped);
                if (similar.FirstOrDefault(p => p.SameHeaders(x)) is { } same)
                {
                    ok.Add(Counter.RxDuplicateKey);
                    why.Add($"may join #{same.Id} (same headers)");
                }
                if (similar.FirstOrDefault(p => !p.SameHeaders(x)) is { } other)
                {
                    ok.Add(Counter.RxKeyConflict);
                    why.Add($"may conflict with #{other.Id} (the same but for fields a VNF rewrites, other headers)");
                }
                else if (x.Alike?.FirstOrDefault(p => p != x && p.Popped && !p.Swept && p.Found == 0 && !p.SameHeaders(x)) is { } alike)
                {
                    ok.Add(Counter.RxKeyConflict);
                    why.Add($"may be refused as a near-collision of #{alike.Id} (other headers)");
                }
            }
            if (_similarCount >= _capacity)
            {
                ok.Add(Counter.RxCacheFull);
                why.Add($"{_similarCount} entries may be cached");
            }
        }
        else
        {
            ok.Add(Counter.RxPopped);
            if (x.Datagram?.Fragments.FirstOrDefault(f => f != x && f.Popped && !f.SameHeaders(x)) is { } sibling)
            {
                ok.Add(Counter.RxKeyConflict);
                why.Add($"fragment #{sibling.Id} of its datagram has other headers");
            }
            // A slot comes round after Cache:Size / CPUs pops of its CPU (all pops run on one CPU
            // here): full only if a packet popped at least that long ago may still be live.
            while (_unreleased.First is { } first && (first.Value.P.Found > 0 || x.RxStartNs - first.Value.P.RxEndNs >= _maxAgeNs))
                _unreleased.RemoveFirst();
            if (_unreleased.First is { } oldest && _rxRuns - oldest.Value.RxRun >= _capacity)
            {
                ok.Add(Counter.RxCacheFull);
                why.Add($"#{oldest.Value.P.Id} popped {_rxRuns - oldest.Value.RxRun} runs ago may still be live");
            }
        }
        return ([.. ok], why.Count > 0 ? string.Join("; ", why)
            : Hash ? "no packet in the VNF that it may be impossible to tell apart from" : "the cache cannot be full for it");
    }

    private void Remember(ContractPacket x)
    {
        _recent[_recentNext++ % RecentPackets] = x;
        if (Hash)
        {
            if (!_similar.TryGetValue(x.NormalKey, out var list))
                _similar[x.NormalKey] = list = [];
            list.Add(x);
            _similarCount++;
        }
        else
        {
            _unreleased.AddLast((x, _rxRuns));
        }
    }

    private void Released(ContractPacket x)
    {
        x.Found++;
        if (x.ReferenceSpentBy is { } by && x.Found == 1)
        {
            // it found a reference after all: the one spent was another copy's
            x.ReferenceSpentBy = null;
            SpendTwinReference(by, except: x);
        }
        if (Hash && x.Found == 1 && !x.Swept && _similar.TryGetValue(x.NormalKey, out var list) && list.Remove(x))
        {
            _similarCount--;
            if (list.Count == 0)
                _similar.Remove(x.NormalKey);
        }
    }

    /// <summary>Header-hash: the host's aging sweep deleted every entry popped before <paramref name="cutoffNs"/>.</summary>
    public void Swept(ulong cutoffNs)
    {
        _cutoffs.Add(cutoffNs);
        foreach (var key in _similar.Keys.ToList())
        {
            var list = _similar[key];
            foreach (var p in list.Where(p => p.RxEndNs < cutoffNs))
                p.Swept = true;
            _similarCount -= list.RemoveAll(p => p.Swept);
            if (list.Count == 0)
                _similar.Remove(key);
        }
    }

    /// <summary>
    /// Header-hash: <paramref name="x"/>'s entry was aged (or an earlier copy of x used its
    /// reference), yet its emission met an entry. Only an identical packet with the same headers,
    /// popped after the sweep (a new entry) or joined to the entry, can own it: the egress cannot
    /// tell the copies apart, so x spent that copy's reference, and that copy may now miss
    /// (a retransmission across a sweep, a duplicated retransmission).
    /// </summary>
    private void SpendTwinReference(ContractPacket x, ContractPacket? except = null)
    {
        if (_similar.TryGetValue(x.NormalKey, out var list)
            && list.FirstOrDefault(p => p != x && p != except && p.IpKey == x.IpKey && p.SameHeaders(x) && p.Found == 0 && p.ReferenceSpentBy is null) is { } twin)
            twin.ReferenceSpentBy = x;
    }

    // ------------------------------------------------------------------ tc_tx

    public void Tx(Emission em, Emitted emitted, bool firstCopy, TxRun run, ulong[] delta, EgressConfig cfg, int episode, ulong txStartNs)
    {
        var x = em.Source;
        var what = x is null ? $"packet originated by the VNF ({em.Behaviour})" : $"{x.Describe()} [this frame: {em.Behaviour}]";
        var outcome = Outcome(delta, TxOutcomes, RxOutcomes, "tc_tx", episode, what);
        if (outcome is not { } got)
            return;

        var aged = x is not null && (Hash ? em.Needs.Any(n => n.Swept) : em.Needs.Any(n => txStartNs - n.RxStartNs >= _maxAgeNs));
        var spent = x?.ReferenceSpentBy;
        var missOk = em.MustMiss || em.MissAllowed || aged || !firstCopy || spent is not null;
        var why = em.MustMiss ? "derives from no popped packet" : em.MissAllowed ? $"the VNF's {em.Behaviour}" : aged ? "held past MaxAge / aged"
            : !firstCopy ? "a later copy" : spent is not null ? $"#{spent.Id}, identical and aged, spent its reference" : "";
        Stats.Tx(em, got, missOk);
        if (x is not null && got is Counter.TxRestored or Counter.TxRestoredLast or Counter.TxTtlExpired or Counter.TxSiExhausted or Counter.TxGso)
        {
            x.EntryUsed = true;
            // its own reference was aged, or an earlier copy of it used it: the entry it met is an
            // identical packet's
            if (Hash && (x.Swept || x.Found > 0))
                SpendTwinReference(x);
        }
        var e = emitted.Frame;
        var mark = $"mark 0x{emitted.Mark:x8}";
        var sent = $"{mark}, emitted {Wire.Hex(e)}";
        Expectation? exp = x is null ? null : Expected.Of(x, cfg);
        var expText = exp is null ? "a miss" : $"{exp}{(missOk ? $", or a counted miss ({why})" : "")}";
        ulong pushed = 0, nshRestored = 0, srv6Restored = 0;

        switch (got)
        {
            case Counter.TxRestored:
                if (exp is Restore r)
                {
                    var want = Expected.Output(r, e, cfg);
                    if (run.Verdict == ProxyTestRuns.TcOk && run.Frame.AsSpan().SequenceEqual(want))
                    {
                        Released(x!);
                        pushed = r.EtherType == Wire.Mpls ? (ulong)r.Headers.Length / 4 : 0;
                        nshRestored = r.EtherType == Wire.Nsh ? 1UL : 0;
                        srv6Restored = r.Srv6 ? 1UL : 0;
                        break;
                    }
                    WrongRestore(episode, x, what, $"{expText}: {Wire.Hex(want)}", run, e, cfg, sent);
                    // count the push the datapath did, so that the detail check reports only the outcome
                    (pushed, nshRestored, srv6Restored) = (delta[(int)Counter.LabelsPushed], delta[(int)Counter.NshRestored], delta[(int)Counter.Srv6Restored]);
                }
                else
                {
                    WrongRestore(episode, x, what, expText, run, e, cfg, sent);
                    (pushed, nshRestored, srv6Restored) = (delta[(int)Counter.LabelsPushed], delta[(int)Counter.NshRestored], delta[(int)Counter.Srv6Restored]);
                }
                break;

            case Counter.TxRestoredLast:
                if (exp is RestoreLast last)
                {
                    var want = Expected.OutputLast(last, e);
                    if (run.Verdict == ProxyTestRuns.TcOk && Expected.SameLast(run.Frame, want))
                    {
                        Released(x!);
                        break;
                    }
                    var ttlNote = run.Frame.Length == want.Length
                        ? $" (IP TTL {IpFields.Ttl(run.Frame[Wire.L2Length(run.Frame)..])}, the rule: min(emitted {IpFields.Ttl(e[Wire.L2Length(e)..])}, popped top TTL - 1 = {last.TtlCap}))"
                        : "";
                    var onlyTtl = run.Frame.Length == want.Length && IpFields.Ttl(run.Frame[Wire.L2Length(run.Frame)..]) > last.TtlCap
                        && Expected.SameLast(Expected.OutputLast(last, run.Frame), want);
                    Add(onlyTtl ? "last segment: IP TTL not lowered to popped top TTL - 1 (RFC 3032 2.4.3)" : "last segment: wrong frame", episode, what, $"{expText}: {Wire.Hex(want)}", $"verdict {run.Verdict}, {Wire.Hex(run.Frame)}{ttlNote}", $"{sent}; {InputHex(x)}");
                }
                else
                {
                    Add(exp switch
                        {
                            null => "VNF-originated packet got a cached entry",
                            Expire when x!.Encap == Encapsulation.Mpls && x.Received.Length / 4 <= cfg.Consumed =>
                                "last segment forwarded as plain IP although its TTL expired (RFC 3032 2.4.2)",
                            _ => "sent as plain IP (last segment) against EXPECTED(X)",
                        }, episode, what, expText, $"tx_restored_last: plain IP, verdict {run.Verdict}, {Wire.Hex(run.Frame)}", $"{sent}; {InputHex(x)}");
                }
                break;

            case Counter.TxTtlExpired or Counter.TxSiExhausted:
                if (exp is Expire ex && ex.Counters.Contains(got) && run.Verdict == ProxyTestRuns.TcShot)
                {
                    Released(x!);
                    break;
                }
                Add(exp switch
                    {
                        null => "VNF-originated packet got a cached entry",
                        Restore { Rule.Length: > 0 } rule => $"dropped as {got}: {rule.Rule}",
                        Restore => $"dropped as {got} although EXPECTED(X) restores",
                        RestoreLast => $"dropped as {got} although EXPECTED(X) is plain IP",
                        _ => $"dropped as {got}, not by the rule that applies",
                    }, episode, what, expText, $"{got}, verdict {run.Verdict}", $"{sent}; {InputHex(x)}");
                break;

            case Counter.TxMissDrop or Counter.TxMissPass or Counter.TxMissStatic:
                {
                    var policy = got switch { Counter.TxMissDrop => MissPolicy.Drop, Counter.TxMissPass => MissPolicy.Pass, _ => MissPolicy.Static };
                    if (policy != cfg.Miss)
                        Add("miss policy", episode, what, $"a miss counted as MissPolicy {cfg.Miss}", $"{got}", sent);
                    var (okVerdict, okFrame, want) = policy switch
                    {
                        MissPolicy.Drop => (run.Verdict == ProxyTestRuns.TcShot, true, "TC_ACT_SHOT"),
                        MissPolicy.Pass => (run.Verdict == ProxyTestRuns.TcOk, run.Frame.AsSpan().SequenceEqual(e), "TC_ACT_OK, the frame as emitted"),
                        _ => (run.Verdict == ProxyTestRuns.TcOk, run.Frame.AsSpan().SequenceEqual(Expected.OutputStatic(e, cfg)),
                            $"TC_ACT_OK, {Wire.Hex(Expected.OutputStatic(e, cfg))}"),
                    };
                    if (!okVerdict || !okFrame)
                        Add("miss frame", episode, what, want, $"{got}, verdict {run.Verdict}, {Wire.Hex(run.Frame)}", sent);
                    if (policy == MissPolicy.Static && okFrame)
                        pushed = (ulong)cfg.StaticStack.Length;
                    else if (policy == MissPolicy.Static)
                        pushed = delta[(int)Counter.LabelsPushed];
                    if (!missOk)
                        Add("lost (must be restored)", episode, what, expText, $"{got} (a miss)",
                            $"{(x?.HeadersTaken is { } t ? $"its headers left earlier on another frame ({t}); " : "")}{SweptTwin(x)}{sent}; {InputHex(x)}; popped as {x?.RxOutcome}");
                    break;
                }

            default:
                Add("tx outcome", episode, what, expText, $"{got}, verdict {run.Verdict}", sent);
                (pushed, nshRestored, srv6Restored) = (delta[(int)Counter.LabelsPushed], delta[(int)Counter.NshRestored], delta[(int)Counter.Srv6Restored]);
                break;
        }
        CheckDetail(delta, episode, what, (Counter.LabelsPushed, pushed), (Counter.NshRestored, nshRestored), (Counter.Srv6Restored, srv6Restored));
    }

    /// <summary>For a failure message: an identical packet with the same headers, popped before an
    /// aging sweep's cutoff, when this one was popped after it (and so was not to be aged).</summary>
    private string SweptTwin(ContractPacket? x) =>
        x is null || !Hash ? ""
            : _recent.FirstOrDefault(p => p is not null && p != x && p.IpKey == x.IpKey && p.SameHeaders(x)
                    && _cutoffs.Any(c => p.RxEndNs < c && c <= x.RxStartNs)) is { } twin
                ? $"popped after an aging sweep's cutoff, while #{twin.Id} (identical, same headers) popped before it; "
                : "";

    private void WrongRestore(int episode, ContractPacket? x, string what, string expected, TxRun run, byte[] emitted, EgressConfig cfg, string sent)
    {
        var whose = Expected.WhoseHeaders(run.Frame, emitted, cfg, _recent.Where(p => p is not null)!).Take(3).ToList();
        var others = whose.Where(w => w.Packet != x).ToList();
        foreach (var (y, _) in others)
            y.HeadersTaken ??= $"episode {episode}, by {(x is null ? "a VNF-originated packet" : $"#{x.Id}")}";
        var kind = x is null ? "VNF-originated packet got a cached entry"
            : others.Count > 0 ? "another packet's headers" : whose.Count > 0 ? "own headers, wrong frame" : "wrong headers";
        Add(kind, episode, what, expected, $"tx_restored, verdict {run.Verdict}, {Wire.Hex(run.Frame)}",
            $"{(whose.Count > 0 ? $"the pushed headers are {string.Join("; ", whose.Select(w => w.Text))}" : "the pushed headers are no known packet's")}; " +
            $"{sent}{(x is null ? "" : $"; {InputHex(x)}; popped as {x.RxOutcome}")}");
    }

    // ------------------------------------------------------------------ counters

    /// <summary>The one outcome counter of the program that moved, by one; anything else is a violation.</summary>
    private Counter? Outcome(ulong[] delta, Counter[] mine, Counter[] theirs, string program, int episode, string what)
    {
        var moved = mine.Where(c => delta[(int)c] != 0).ToList();
        var foreign = theirs.Where(c => delta[(int)c] != 0).ToList();
        if (moved.Count == 1 && delta[(int)moved[0]] == 1 && foreign.Count == 0)
            return moved[0];
        Add("counters", episode, what, $"exactly one {program} outcome counter moves, by one",
            $"moved: {Format(delta)}", "");
        return moved.Count == 1 ? moved[0] : null;
    }

    private void CheckDetail(ulong[] delta, int episode, string what, params (Counter C, ulong Want)[] want)
    {
        foreach (var c in CheckedDetail)
        {
            var w = want.FirstOrDefault(t => t.C == c).Want;
            if (delta[(int)c] != w)
                Add("counters", episode, what, $"{c} moves by {w}", $"moved: {Format(delta)}", "");
        }
    }

    public static string Format(ulong[] delta) =>
        string.Join(", ", Enumerable.Range(0, delta.Length).Where(i => delta[i] != 0).Select(i => $"{(Counter)i}+{delta[i]}"));

    // ------------------------------------------------------------------ helpers

    private void Add(string kind, int episode, ContractPacket x, string expected, string got, string detail) =>
        Add(kind, episode, x.Describe(), expected, got, detail);

    private void Add(string kind, int episode, string what, string expected, string got, string detail) =>
        Violations.Add(new Violation(kind, episode, what, expected, got, detail));

    private static string InputHex(ContractPacket? x) => x is null ? "no input frame (originated by the VNF)" : $"input frame {Wire.Hex(x.Frame)}";

    /// <summary>An IPv6 frame whose first extension header is a routing header (next header 43).</summary>
    private static bool RoutingHeaderFirst(byte[] f)
    {
        var l2 = Wire.L2Length(f);
        return l2 + 40 <= f.Length && (f[l2 - 2] << 8 | f[l2 - 1]) == 0x86DD && f[l2 + 6] == 43;
    }

    /// <summary>The encapsulation a frame is for this proxy: MPLS, NSH, or SRv6 (IPv6 to one of its SIDs).</summary>
    private static Encapsulation FrameEncap(byte[] f, EgressConfig cfg)
    {
        var l2 = Wire.L2Length(f);
        return l2 <= f.Length ? (f[l2 - 2] << 8 | f[l2 - 1]) switch
            {
                Wire.Mpls => Encapsulation.Mpls,
                Wire.Nsh => Encapsulation.Nsh,
                Wire.IPv6 when l2 + 40 <= f.Length && cfg.IsSid(f.AsSpan(l2 + 24, 16)) => Encapsulation.Srv6,
                _ => Encapsulation.None,
            }
            : Encapsulation.None;
    }
}
