using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SfcProxy.Composition;
using SfcProxy.Configuration;

namespace SfcProxy.Cli;

/// <summary>`sfcproxy validate --config FILE`: the checks `run` does before attaching, and nothing else.</summary>
internal static class ValidateCommand
{
    public static Command Create()
    {
        var config = CliOptions.Config();
        var noInterfaceCheck = new Option<bool>("--no-interface-check")
        {
            Description = "Do not require the interfaces to exist here (checking a config meant for another host)",
        };
        var command = new Command("validate", "Check a config file; prints \"ok\" or every problem") { config, noInterfaceCheck };
        command.SetAction(parseResult => Validate(
            parseResult.GetRequiredValue(config), parseResult.GetValue(noInterfaceCheck),
            parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error));
        return command;
    }

    private static int Validate(string configPath, bool noInterfaceCheck, TextWriter output, TextWriter error)
    {
        if (!ConfigCheck.FileIsReadable(configPath, error))
            return ExitCodes.BadConfig;

        IConfiguration configuration;
        try
        {
            configuration = ConfigFile.AddTo(new ConfigurationBuilder(), configPath).Build();
        }
        catch (InvalidDataException e)
        {
            ConfigCheck.PrintUnreadable(configPath, e, error);
            return ExitCodes.BadConfig;
        }

        var validator = noInterfaceCheck ? new SfcProxyOptionsValidator(interfaceNames: null) : new SfcProxyOptionsValidator();
        using var services = new ServiceCollection().AddSfcProxyOptions(configuration, Modules.OptionsSections, validator).BuildServiceProvider();
        if (!ConfigCheck.OptionsAreValid(services, configPath, error))
            return ExitCodes.BadConfig;
        output.WriteLine("ok");
        return ExitCodes.Ok;
    }
}
