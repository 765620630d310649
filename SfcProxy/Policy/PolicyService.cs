using Microsoft.Extensions.Hosting;

namespace SfcProxy.Policy;

/// <summary>
/// Applies the configured policy files when the host starts. A start with files that do not compile
/// fails (the validator has normally said so already); later changes come through <c>policy-apply</c>.
/// </summary>
public sealed class PolicyService(ActivePolicy policy) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var result = policy.Apply();
        if (!result.Applied)
            throw new InvalidOperationException("SfcProxy:Policy:Files: " + string.Join(Environment.NewLine, result.Errors));
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
}
