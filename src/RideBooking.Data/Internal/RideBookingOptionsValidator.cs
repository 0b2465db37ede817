using Microsoft.Extensions.Options;
using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>Checks every option once, at start-up, and reports all problems in one error.</summary>
internal sealed class RideBookingOptionsValidator : IValidateOptions<RideBookingOptions>
{
    public ValidateOptionsResult Validate(string? name, RideBookingOptions options)
    {
        var failures = new List<string>();
        var hasConnectionString = !string.IsNullOrWhiteSpace(options.ConnectionString);
        if (hasConnectionString && options.Shards.Count > 0)
        {
            failures.Add("Set either RideBooking:ConnectionString (one database) or RideBooking:Shards (several), not both.");
        }
        else if (!hasConnectionString && options.Shards.Count == 0)
        {
            failures.Add("RideBooking:ConnectionString (or RideBooking:Shards) is required.");
        }

        // Servers are compared by host, port and database: one server listed twice would hold the same rows twice.
        var servers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (hasConnectionString)
        {
            CheckServer(options.ConnectionString!, "RideBooking:ConnectionString", failures, servers);
        }

        if (options.Shards.Count > IdGenerator.LogicalShardCount)
        {
            failures.Add($"RideBooking:Shards has {options.Shards.Count} shards; at most {IdGenerator.LogicalShardCount} (the number of logical shards) are supported.");
        }

        for (var i = 0; i < options.Shards.Count; i++)
        {
            var shard = options.Shards[i];
            if (shard is null)
            {
                failures.Add($"RideBooking:Shards:{i} is empty.");
                continue;
            }

            if (string.IsNullOrWhiteSpace(shard.Primary))
            {
                failures.Add($"RideBooking:Shards:{i}:Primary is required.");
            }
            else
            {
                CheckServer(shard.Primary, $"RideBooking:Shards:{i}:Primary", failures, servers);
            }

            for (var r = 0; r < shard.Replicas.Count; r++)
            {
                if (string.IsNullOrWhiteSpace(shard.Replicas[r]))
                {
                    failures.Add($"RideBooking:Shards:{i}:Replicas:{r} is empty.");
                }
                else
                {
                    CheckServer(shard.Replicas[r], $"RideBooking:Shards:{i}:Replicas:{r}", failures, servers);
                }
            }
        }

        if (options.RecoveryGracePeriod < TimeSpan.FromSeconds(1) || options.RecoveryGracePeriod > TimeSpan.FromDays(1))
        {
            failures.Add($"RideBooking:RecoveryGracePeriod must be 1 second to 1 day (was {options.RecoveryGracePeriod}).");
        }

        if (options.RecoveryInterval is { } interval && (interval < TimeSpan.FromSeconds(1) || interval > TimeSpan.FromDays(1)))
        {
            failures.Add($"RideBooking:RecoveryInterval must be 1 second to 1 day, or empty for no background recovery (was {interval}).");
        }

        var shardCount = Math.Max(options.Shards.Count, 1);
        if (options.BasePhysicalShardCount is { } baseCount && (baseCount < 1 || baseCount > shardCount))
        {
            failures.Add($"RideBooking:BasePhysicalShardCount must be 1 to the number of shards ({shardCount}), or empty for all of them (was {baseCount}).");
        }

        if (options.PlacementRefreshInterval < TimeSpan.FromMilliseconds(10) || options.PlacementRefreshInterval > TimeSpan.FromMinutes(1))
        {
            failures.Add($"RideBooking:PlacementRefreshInterval must be 10 milliseconds to 1 minute (was {options.PlacementRefreshInterval}).");
        }

        if (options.MaxReplicaLag <= TimeSpan.Zero || options.MaxReplicaLag > TimeSpan.FromHours(1))
        {
            failures.Add($"RideBooking:MaxReplicaLag must be more than 0 and at most 1 hour (was {options.MaxReplicaLag}).");
        }

        if (options.ReplicaWaitTimeout < TimeSpan.Zero || options.ReplicaWaitTimeout > TimeSpan.FromSeconds(30))
        {
            failures.Add($"RideBooking:ReplicaWaitTimeout must be 0 to 30 seconds (was {options.ReplicaWaitTimeout}).");
        }

        if (options.ReplicaCheckInterval < TimeSpan.FromMilliseconds(10) || options.ReplicaCheckInterval > TimeSpan.FromMinutes(1))
        {
            failures.Add($"RideBooking:ReplicaCheckInterval must be 10 milliseconds to 1 minute (was {options.ReplicaCheckInterval}).");
        }

        if (options.MaxTransactionRetries is < 0 or > 10)
        {
            failures.Add($"RideBooking:MaxTransactionRetries must be 0 to 10 (was {options.MaxTransactionRetries}).");
        }

        if (options.RetryBaseDelay < TimeSpan.Zero || options.RetryBaseDelay > TimeSpan.FromSeconds(10))
        {
            failures.Add($"RideBooking:RetryBaseDelay must be 0 to 10 seconds (was {options.RetryBaseDelay}).");
        }

        if (options.UnknownOutcomeWaitTimeout < TimeSpan.Zero || options.UnknownOutcomeWaitTimeout > TimeSpan.FromMinutes(10))
        {
            failures.Add($"RideBooking:UnknownOutcomeWaitTimeout must be 0 to 10 minutes (was {options.UnknownOutcomeWaitTimeout}).");
        }

        if (options.WorkerId is < 0 or > IdGenerator.MaxWorkerId)
        {
            failures.Add($"RideBooking:WorkerId must be 0 to {IdGenerator.MaxWorkerId} (was {options.WorkerId}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>A valid connection string that names its database, and a server not listed before. Never echoes the string.</summary>
    private static void CheckServer(string connectionString, string key, List<string> failures, Dictionary<string, string> servers)
    {
        MySqlConnectionStringBuilder builder;
        try
        {
            builder = new MySqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            // The message of the parser may echo the connection string, which can hold a password.
            failures.Add($"{key} is not a valid MySQL connection string.");
            return;
        }

        if (string.IsNullOrWhiteSpace(builder.Database))
        {
            failures.Add($"{key} names no database (Database=...); it must name the database that holds the schema.");
            return;
        }

        var server = $"{builder.Server}:{builder.Port}/{builder.Database}";
        if (servers.TryGetValue(server, out var first))
        {
            failures.Add($"{key} names the same server and database as {first} ({builder.Server}:{builder.Port}, database '{builder.Database}'); every primary and replica must be a different server.");
        }
        else
        {
            servers[server] = key;
        }
    }
}
