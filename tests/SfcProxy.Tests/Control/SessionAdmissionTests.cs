using SfcProxy.Control;

namespace SfcProxy.Tests.Control;

/// <summary>Per-user caps and root's reserve, decided by the peer's uid (SO_PEERCRED).</summary>
[TestClass]
public sealed class SessionAdmissionTests
{
    private static readonly PeerCredentials Root = new(1, 0, 0), Alice = new(2, 1000, 1000), Bob = new(3, 1001, 1001);

    [TestMethod]
    public void OneUserIsCappedOthersAreNot()
    {
        var admission = new SessionAdmission(ControlSessionLimits.Default with { MaxSessions = 100, MaxSessionsPerUser = 3, ReservedForRoot = 10 });

        for (var i = 0; i < 3; i++)
            Assert.IsNull(admission.TryAdmit(Alice));
        StringAssert.Contains(admission.TryAdmit(Alice), "uid 1000 has 3 sessions open");
        Assert.IsNull(admission.TryAdmit(Bob));
        admission.Release(Alice);
        Assert.IsNull(admission.TryAdmit(Alice), "a released session makes room for its user");
    }

    [TestMethod]
    public void TheLastSessionsAreRootsAlone()
    {
        var admission = new SessionAdmission(ControlSessionLimits.Default with { MaxSessions = 10, MaxSessionsPerUser = 100, ReservedForRoot = 4 });

        for (var i = 0; i < 6; i++)
            Assert.IsNull(admission.TryAdmit(i % 2 == 0 ? Alice : Bob));
        StringAssert.Contains(admission.TryAdmit(Alice), "kept for root");
        for (var i = 0; i < 4; i++)
            Assert.IsNull(admission.TryAdmit(Root), "root takes the reserved sessions");
        StringAssert.Contains(admission.TryAdmit(Root), "too many clients");
        Assert.AreEqual(10, admission.Count);
    }
}
