namespace Fleet.Agent.Benchmarks;

/// <summary>The benchmark could not be set up: a tool failed, or the workload could not be built.</summary>
internal sealed class SetupException(string message) : Exception(message);
