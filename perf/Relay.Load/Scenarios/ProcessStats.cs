using System.Globalization;

namespace Relay.Load.Scenarios;

/// <summary>Reads a process's resident memory and descriptor counts from /proc (Linux only).</summary>
public static class ProcessStats
{
    /// <summary>VmRSS in KiB, or null when the process or /proc is not readable.</summary>
    public static long? ResidentKiB(int pid) => StatusField(pid, "VmRSS:");

    public static long? StatusField(int pid, string field)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
                string[] parts = line[field.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0], CultureInfo.InvariantCulture);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        return null;
    }

    /// <summary>Number of open descriptors, or null when /proc/&lt;pid&gt;/fd is not readable.</summary>
    public static int? OpenFiles(int pid)
    {
        try { return Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>The soft "Max open files" limit of this process (the runtime raises it to the hard limit at start).</summary>
    public static long? OwnFileLimit()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
                string[] parts = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return parts[0] == "unlimited" ? long.MaxValue : long.Parse(parts[0], CultureInfo.InvariantCulture);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        return null;
    }
}
