using System.Reflection;
using Microsoft.Extensions.Logging;
using SfcProxy.Hosting;

namespace SfcProxy.Tests.Hosting;

/// <summary>One registry of log event ids: one id, one event.</summary>
[TestClass]
public sealed class EventIdsTests
{
    private static readonly (string Method, int Id)[] Messages =
    [
        .. typeof(EventIds).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(m => (Method: $"{m.DeclaringType!.FullName}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .Select(m => (m.Method, m.Attribute!.EventId)),
    ];

    /// <summary>Each id of EventIds with the constants that name it.</summary>
    private static readonly Dictionary<int, string[]> Registry = typeof(EventIds).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral).GroupBy(f => (int)f.GetRawConstantValue()!).ToDictionary(g => g.Key, g => g.Select(f => f.Name).ToArray());

    [TestMethod]
    public void NoTwoLogMessagesShareAnEventId()
    {
        Assert.IsGreaterThan(40, Messages.Length, "the product's [LoggerMessage] methods are found");
        var shared = Messages.GroupBy(m => m.Id).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Method))}").ToList();

        Assert.IsEmpty(shared, string.Join("; ", shared));
    }

    [TestMethod]
    public void EveryLogMessageTakesItsIdFromTheRegistry()
    {
        var unregistered = Messages.Where(m => !Registry.ContainsKey(m.Id)).Select(m => $"{m.Method} ({m.Id})").ToList();

        Assert.IsEmpty(unregistered, string.Join(", ", unregistered));
    }

    [TestMethod]
    public void TheRegistryNamesEachIdOnce()
    {
        var shared = Registry.Where(r => r.Value.Length > 1).Select(r => $"{r.Key}: {string.Join(", ", r.Value)}").ToList();

        Assert.IsEmpty(shared, string.Join("; ", shared));
    }
}
