// Tests across the suite read metrics and capture the log.
global using Relay.Server.Observability;
global using Relay.Server.Observability.Logging;
