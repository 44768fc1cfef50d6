return Fleet.Agent.Cli.AgentCommandLine.Run(args);
