using Microsoft.Extensions.Options;

namespace Fleet.Server.LocalAgent;

/// <summary>
/// The agent the server runs in-process to watch its own machine (configuration section
/// <c>Fleet:LocalAgent</c>): on by default in the one-command mode, off otherwise.
/// </summary>
public sealed class LocalAgentOptions
{
    public const string Section = "Fleet:LocalAgent";

    /// <summary>Unset: on when the server runs its own database (no ConnectionStrings:Fleet).</summary>
    public bool? Enabled { get; set; }

    /// <summary>The agent's state folder (id, sequence, spool); default "agent" beside the local database's folder.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>The procfs to collect from.</summary>
    public string ProcRoot { get; set; } = "/proc";
}

internal sealed class LocalAgentOptionsValidator : IValidateOptions<LocalAgentOptions>
{
    public ValidateOptionsResult Validate(string? name, LocalAgentOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ProcRoot) || !Path.IsPathRooted(options.ProcRoot))
        {
            errors.Add($"{LocalAgentOptions.Section}:ProcRoot is '{options.ProcRoot}': an absolute path such as /proc is required");
        }
        if (options.StateDirectory is { Length: > 0 } dir && !Path.IsPathRooted(dir))
        {
            errors.Add($"{LocalAgentOptions.Section}:StateDirectory is '{dir}': an absolute path is required");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
