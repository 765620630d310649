using SfcProxy.Bpf;
using SfcProxy.Net;

namespace SfcProxy.Proxy;

/// <summary>
/// Giving GRO back on the interfaces an instance's <see cref="GroNote"/> names: on the last detach
/// (the daemon's stop, `sfcproxy detach`), and when a restarted daemon leaves an interface it used
/// before. An interface that no longer exists needs nothing; one where turning GRO on fails stays in
/// the note, so a later `sfcproxy detach` can try again.
/// </summary>
internal static class GroRestore
{
    private const int ENODEV = 19;

    /// <summary>Every noted interface. <paramref name="legacyIngress"/> stands for an older note's bare "on".</summary>
    /// <returns>The interfaces GRO was turned back on for.</returns>
    public static IReadOnlyList<string> All(string notePath, string instance, string? legacyIngress, Teardown steps)
    {
        var note = GroNote.Read(notePath);
        if (note is null)
            return [];
        if (note.Problem is not null)
        {
            steps.Run($"read the GRO note {notePath}", () => throw new IOException(note.Problem));
            return [];
        }
        var interfaces = note.LegacyIngressOn && legacyIngress is not null ? [legacyIngress] : note.Interfaces;
        if (interfaces.Count == 0)
        {
            // An older daemon's "off" (or an empty note): nothing to give back.
            steps.Run($"remove the GRO note {notePath}", () => GroNote.Delete(notePath));
            return [];
        }
        return Only(notePath, instance, note, interfaces, steps);
    }

    /// <summary>Only <paramref name="interfaces"/>, of those the note names.</summary>
    public static IReadOnlyList<string> Only(string notePath, string instance, IEnumerable<string> interfaces, Teardown steps)
    {
        var note = GroNote.Read(notePath);
        return note is null || note.Problem is not null ? [] : Only(notePath, instance, note, interfaces.Where(note.Interfaces.Contains).ToList(), steps);
    }

    private static IReadOnlyList<string> Only(string notePath, string instance, GroNote.Found note, IReadOnlyCollection<string> interfaces, Teardown steps)
    {
        // Nothing of ours to give back: the note is not touched (only who turns GRO on takes from it).
        if (interfaces.Count == 0)
            return [];
        var restored = new List<string>();
        var kept = note.Interfaces.Except(interfaces).ToList();
        foreach (var device in interfaces)
        {
            if (steps.Run($"turn GRO back on for {device}", () => TurnOn(device)))
                restored.Add(device);
            else
                kept.Add(device);
        }
        steps.Run($"update the GRO note {notePath}", () => GroNote.Write(notePath, instance, kept));
        return restored;
    }

    private static void TurnOn(string device)
    {
        try
        {
            NetDevice.SetGro(device, true);
        }
        catch (NetDeviceException e) when (e.Errno == ENODEV)
        {
            // Gone with its setting: nothing to give back.
        }
    }
}
