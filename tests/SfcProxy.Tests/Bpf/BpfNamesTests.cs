using System.Reflection;
using SfcProxy.Bench;
using SfcProxy.Dsr;
using SfcProxy.Policy;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Bpf;

/// <summary>
/// The host finds programs and maps by name, and a name that drifts from the C fails only when the
/// object is loaded. Each module spells its names once, in a names class (an object is a nested class
/// with Object and Program constants; the maps are the constants of its nested Maps class); this
/// compares those constants with the symbols of the objects the build ships (bpf/ next to the test
/// assembly), in both directions, as SharedLayoutTests does for the structs.
/// </summary>
[TestClass]
public sealed class BpfNamesTests
{
    private static readonly Type[] Modules = [typeof(SfcBpfNames), typeof(DsrBpfNames), typeof(PolicyBpfNames), typeof(BenchBpfNames)];

    /// <summary>Built from bpf/testing for the tests alone: no module loads them.</summary>
    private static readonly string[] TestOnlyObjects = ["probe", "verifier_reject", "ipip_encap_test"];

    public static IEnumerable<object[]> ModuleNames => Modules.Select(m => new object[] { m.Name });

    [TestMethod]
    [DynamicData(nameof(ModuleNames))]
    public void EveryProgramConstantIsAProgramOfItsObject(string module)
    {
        var errors = new List<string>();
        foreach (var (obj, programs) in Objects(module))
        {
            var declared = Symbols(obj).Programs;
            errors.AddRange(programs.Where(p => !declared.Contains(p)).Select(p => $"{obj}.bpf.o has no program {p}"));
        }
        Assert.IsEmpty(errors, string.Join("\n", errors));
    }

    [TestMethod]
    [DynamicData(nameof(ModuleNames))]
    public void EveryMapConstantIsAMapOfTheModulesObjects(string module)
    {
        var declared = Objects(module).SelectMany(o => Symbols(o.Object).Maps).ToHashSet();
        var missing = Maps(module).Where(m => !declared.Contains(m)).ToList();
        Assert.IsEmpty(missing, $"{module} names maps none of its objects declares: {string.Join(", ", missing)}");
    }

    [TestMethod]
    [DynamicData(nameof(ModuleNames))]
    public void EveryProgramAndMapOfTheModulesObjectsHasAConstant(string module)
    {
        var maps = Maps(module).ToHashSet();
        var errors = new List<string>();
        foreach (var (obj, programs) in Objects(module))
        {
            var symbols = Symbols(obj);
            errors.AddRange(symbols.Programs.Where(p => !programs.Contains(p)).Select(p => $"program {p} of {obj}.bpf.o"));
            errors.AddRange(symbols.Maps.Where(m => !maps.Contains(m)).Select(m => $"map {m} of {obj}.bpf.o"));
        }
        Assert.IsEmpty(errors, $"not named in {module}:\n{string.Join("\n", errors)}");
    }

    [TestMethod]
    public void EveryShippedObjectBelongsToAModule()
    {
        var named = Modules.SelectMany(m => Objects(m.Name)).Select(o => o.Object).ToList();
        Assert.HasCount(named.Count, named.Distinct(), $"an object named by two modules: {string.Join(", ", named)}");
        var shipped = Directory.EnumerateFiles(TestObjects.Path(""), "*.bpf.o")
            .Select(f => Path.GetFileName(f)[..^".bpf.o".Length])
            .Except(TestOnlyObjects)
            .Order()
            .ToList();
        CollectionAssert.AreEquivalent(shipped, named, $"objects in bpf/: {string.Join(", ", shipped)}; named: {string.Join(", ", named)}");
    }

    private static Type Module(string name) => Modules.Single(m => m.Name == name);

    /// <summary>The module's objects with the programs it names in each.</summary>
    private static List<(string Object, List<string> Programs)> Objects(string module) =>
        [.. Module(module).GetNestedTypes()
            .Where(t => Constant(t, "Object") is not null)
            .Select(t => (Constant(t, "Object")!, Constants(t).Where(f => f.Name != "Object").Select(f => (string)f.GetRawConstantValue()!).ToList()))];

    private static IEnumerable<string> Maps(string module) =>
        Module(module).GetNestedTypes().Where(t => t.Name == "Maps").SelectMany(Constants).Select(f => (string)f.GetRawConstantValue()!);

    private static IEnumerable<FieldInfo> Constants(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral && f.FieldType == typeof(string));

    private static string? Constant(Type type, string name) =>
        Constants(type).SingleOrDefault(f => f.Name == name)?.GetRawConstantValue() as string;

    private static ElfSymbols Symbols(string obj) => ElfSymbols.Read(TestObjects.Path(obj + ".bpf.o"));
}
