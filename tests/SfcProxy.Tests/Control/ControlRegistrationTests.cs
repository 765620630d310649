using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SfcProxy.Control;
using SfcProxy.Dsr;
using SfcProxy.Policy;
using SfcProxy.Proxy;
using SfcProxy.Tests.Dsr;
using SfcProxy.Tests.Policy;

namespace SfcProxy.Tests.Control;

/// <summary>Each module's AddXxx registers its control handler; the control core is registered once.</summary>
[TestClass]
public sealed class ControlRegistrationTests
{
    private static Type?[] Handlers(IServiceCollection services) =>
        [.. services.Where(d => d.ServiceType == typeof(IControlModule)).Select(d => d.ImplementationType)];

    [TestMethod]
    public void EachModuleRegistersItsHandlerAndTheCoreComesOnce()
    {
        var services = new ServiceCollection();
        services.AddSfcPolicy(_ => new FakePolicyDatapath());
        services.AddSfcDsr(_ => new FakeDsrDatapath());
        services.AddSfcProxy(_ => new FakeDatapath());
        services.AddSfcControl();

        CollectionAssert.AreEquivalent(new[] { typeof(PolicyControl), typeof(DsrControl), typeof(ProxyControl), typeof(CoreControl) }, Handlers(services));
        Assert.AreEqual(1, services.Count(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(ControlServer)));
    }

    [TestMethod]
    public void AModuleNotAddedAnswersNothing()
    {
        var services = new ServiceCollection();
        services.AddSfcDsr(_ => new FakeDsrDatapath());
        services.AddSfcControl();

        CollectionAssert.AreEquivalent(new[] { typeof(DsrControl), typeof(CoreControl) }, Handlers(services));
    }
}
