using System.Buffers.Binary;
using System.Text;

namespace SfcProxy.Tests.Bpf;

/// <summary>
/// The programs and maps a BPF object file declares, read from its ELF symbol table the way libbpf
/// finds them: a program is a function in an executable section other than .text (functions in .text
/// are subprograms), a map is a variable in the .maps section. Reads the file only (no kernel).
/// </summary>
internal sealed record ElfSymbols(IReadOnlyList<string> Programs, IReadOnlyList<string> Maps)
{
    private const uint SymbolTable = 2; // SHT_SYMTAB
    private const ulong Executable = 0x4; // SHF_EXECINSTR
    private const int ObjectSymbol = 1, FunctionSymbol = 2; // STT_OBJECT, STT_FUNC
    private const ushort FirstReservedIndex = 0xff00; // SHN_LORESERVE: ABS, COMMON, ...

    /// <summary>Reads a little-endian ELF64 object (what clang -target bpf writes on x86 and arm64).</summary>
    public static ElfSymbols Read(string path)
    {
        var elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != 'E' || elf[2] != 'L' || elf[3] != 'F' || elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException($"{path}: not a little-endian ELF64 object");
        var sections = ReadSections(elf);
        var names = sections[BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3e))];
        string SectionName(Section s) => CString(elf, names.Offset + s.Name);

        var programs = new List<string>();
        var maps = new List<string>();
        var symtab = sections.Single(s => s.Type == SymbolTable);
        var strings = sections[(int)symtab.Link];
        for (ulong at = symtab.Offset; at + 24 <= symtab.Offset + symtab.Size; at += 24)
        {
            var symbol = elf.AsSpan((int)at, 24);
            int kind = symbol[4] & 0xf;
            ushort index = BinaryPrimitives.ReadUInt16LittleEndian(symbol[6..]);
            if (index == 0 || index >= FirstReservedIndex)
                continue;
            var section = sections[index];
            string name = CString(elf, strings.Offset + BinaryPrimitives.ReadUInt32LittleEndian(symbol));
            if (kind == FunctionSymbol && (section.Flags & Executable) != 0 && SectionName(section) != ".text")
                programs.Add(name);
            else if (kind == ObjectSymbol && SectionName(section) == ".maps")
                maps.Add(name);
        }
        return new ElfSymbols(programs, maps);
    }

    private readonly record struct Section(uint Name, uint Type, ulong Flags, ulong Offset, ulong Size, uint Link);

    private static List<Section> ReadSections(byte[] elf)
    {
        var offset = BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(0x28));
        int size = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3a));
        int count = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3c));
        var sections = new List<Section>(count);
        for (int i = 0; i < count; i++)
        {
            var header = elf.AsSpan((int)offset + i * size, size);
            sections.Add(new Section(
                BinaryPrimitives.ReadUInt32LittleEndian(header),
                BinaryPrimitives.ReadUInt32LittleEndian(header[4..]),
                BinaryPrimitives.ReadUInt64LittleEndian(header[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(header[24..]),
                BinaryPrimitives.ReadUInt64LittleEndian(header[32..]),
                BinaryPrimitives.ReadUInt32LittleEndian(header[40..])));
        }
        return sections;
    }

    private static string CString(byte[] elf, ulong at)
    {
        int start = (int)at;
        int end = Array.IndexOf(elf, (byte)0, start);
        return Encoding.ASCII.GetString(elf, start, end - start);
    }
}
