using System.Text.RegularExpressions;
using Fleet.Contracts.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;

namespace Fleet.Server.Ingest;

/// <summary>
/// The configuration every agent receives in Welcome (configuration section <c>Fleet:AgentConfig</c>); it can be
/// replaced at run time through <c>PUT /api/agent-config</c>, which pushes it to every open stream.
/// </summary>
public sealed class AgentConfigOptions
{
    public const string Section = "Fleet:AgentConfig";

    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(10);

    public List<GroupingRuleOptions> GroupingRules { get; set; } = [];

    public AgentConfig ToContract()
    {
        var config = new AgentConfig { Interval = Duration.FromTimeSpan(Interval) };
        foreach (var rule in GroupingRules)
        {
            config.GroupingRules.Add(new GroupingRule
            {
                Field = AgentConfigRules.ParseField(rule.Field) ?? GroupingRule.Types.Field.Unspecified,
                Pattern = rule.Pattern ?? "",
                ServiceTemplate = rule.ServiceTemplate ?? "",
            });
        }
        return config;
    }
}

public sealed class GroupingRuleOptions
{
    /// <summary>comm, exe or cmdline.</summary>
    public string? Field { get; set; }

    /// <summary>A .NET regular expression.</summary>
    public string? Pattern { get; set; }

    /// <summary>The service name; may use the pattern's groups ($1, ${name}).</summary>
    public string? ServiceTemplate { get; set; }
}

/// <summary>What an agent configuration must satisfy, from settings or from the API alike.</summary>
public static class AgentConfigRules
{
    public static TimeSpan MinInterval { get; } = TimeSpan.FromSeconds(1);

    public static TimeSpan MaxInterval { get; } = TimeSpan.FromHours(1);

    public const int MaxRules = 256;
    public const int MaxPatternLength = 1024;
    public const int MaxTemplateLength = 256;

    public static GroupingRule.Types.Field? ParseField(string? field) => field?.Trim().ToUpperInvariant() switch
    {
        "COMM" or "FIELD_COMM" => GroupingRule.Types.Field.Comm,
        "EXE" or "FIELD_EXE" => GroupingRule.Types.Field.Exe,
        "CMDLINE" or "FIELD_CMDLINE" => GroupingRule.Types.Field.Cmdline,
        _ => null,
    };

    /// <summary>Every problem at once, each naming its field (prefix + "grouping_rules[2].pattern").</summary>
    public static IReadOnlyList<string> Validate(AgentConfig config, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(config);
        var errors = new List<string>();
        if (config.Interval is null)
        {
            errors.Add($"{prefix}interval: required (allowed {MinInterval.TotalSeconds:0} s to {MaxInterval.TotalSeconds:0} s)");
        }
        else if (config.Interval.Nanos is < 0 or > 999_999_999
            || config.Interval.Seconds is < 0 or > 86_400
            || config.Interval.ToTimeSpan() < MinInterval || config.Interval.ToTimeSpan() > MaxInterval)
        {
            errors.Add($"{prefix}interval: {config.Interval} is out of range (allowed {MinInterval.TotalSeconds:0} s to {MaxInterval.TotalSeconds:0} s)");
        }
        if (config.GroupingRules.Count > MaxRules)
        {
            errors.Add($"{prefix}grouping_rules: {config.GroupingRules.Count} rules, at most {MaxRules} allowed");
        }
        for (int i = 0; i < config.GroupingRules.Count && i < MaxRules; i++)
        {
            var rule = config.GroupingRules[i];
            string path = $"{prefix}grouping_rules[{i}]";
            if (rule.Field is not (GroupingRule.Types.Field.Comm or GroupingRule.Types.Field.Exe or GroupingRule.Types.Field.Cmdline))
            {
                errors.Add($"{path}.field: must be comm, exe or cmdline");
            }
            foreach (string problem in RuleProblems(rule.Pattern, rule.ServiceTemplate))
            {
                errors.Add($"{path}.{problem}");
            }
        }
        return errors;
    }

    /// <summary>The problems of one rule's pattern and template, each starting with the field name.</summary>
    public static IEnumerable<string> RuleProblems(string? pattern, string? serviceTemplate)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            yield return "pattern: required (a regular expression)";
        }
        else if (pattern.Length > MaxPatternLength)
        {
            yield return $"pattern: {pattern.Length} characters, at most {MaxPatternLength} allowed";
        }
        else if (PatternProblem(pattern) is { } problem)
        {
            yield return $"pattern: not a valid regular expression ({problem})";
        }
        if (string.IsNullOrWhiteSpace(serviceTemplate))
        {
            yield return "service_template: required (the service name, may use $1 or ${name})";
        }
        else if (serviceTemplate.Length > MaxTemplateLength)
        {
            yield return $"service_template: {serviceTemplate.Length} characters, at most {MaxTemplateLength} allowed";
        }
    }

    internal static string? RuleProblem(string? pattern, string? serviceTemplate)
    {
        var problems = RuleProblems(pattern, serviceTemplate).ToList();
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    private static string? PatternProblem(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
            return null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }
}

internal sealed class AgentConfigOptionsValidator : IValidateOptions<AgentConfigOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentConfigOptions options)
    {
        const string S = AgentConfigOptions.Section;
        var errors = new List<string>();
        if (options.Interval < AgentConfigRules.MinInterval || options.Interval > AgentConfigRules.MaxInterval)
        {
            errors.Add($"{S}:Interval is {options.Interval}: allowed are {AgentConfigRules.MinInterval} to {AgentConfigRules.MaxInterval}");
        }
        if (options.GroupingRules.Count > AgentConfigRules.MaxRules)
        {
            errors.Add($"{S}:GroupingRules has {options.GroupingRules.Count} rules: at most {AgentConfigRules.MaxRules} allowed");
        }
        for (int i = 0; i < options.GroupingRules.Count; i++)
        {
            var rule = options.GroupingRules[i];
            if (AgentConfigRules.ParseField(rule.Field) is null)
            {
                errors.Add($"{S}:GroupingRules:{i}:Field is '{rule.Field}': allowed are comm, exe, cmdline");
            }
            if (AgentConfigRules.RuleProblem(rule.Pattern, rule.ServiceTemplate) is { } problem)
            {
                errors.Add($"{S}:GroupingRules:{i}: {problem}");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
