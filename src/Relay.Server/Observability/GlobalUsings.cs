// Metrics and the log are used from every part of the server (and from code other people add);
// importing them everywhere saves each of those files a using.
global using Relay.Server.Observability;
global using Relay.Server.Observability.Logging;
