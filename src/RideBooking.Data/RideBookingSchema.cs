using System.Reflection;
using MySqlConnector;

namespace RideBooking.Data;

/// <summary>The SQL schema scripts shipped in this package (the same files as the repository's <c>schema/</c> folder).</summary>
public static class RideBookingSchema
{
    private const string ResourcePrefix = "RideBooking.Data.Schema.";

    /// <summary>Gets the schema scripts in the order they must run, as (file name, SQL text).</summary>
    /// <value>Every script is idempotent (<c>IF NOT EXISTS</c>) and runs unchanged on MySQL 8.0+ and MariaDB 10.6+.</value>
    public static IReadOnlyList<KeyValuePair<string, string>> Scripts { get; } = LoadScripts();

    /// <summary>
    /// Applies every schema script, in order, to the database named in <paramref name="connectionString"/>.
    /// Idempotent: running it again changes nothing.
    /// </summary>
    /// <param name="connectionString">A connection string that names the target database.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>A task that completes when the schema is in place.</returns>
    public static async Task ApplyAsync(string connectionString, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var connection = new MySqlConnection(connectionString);
        await using var connectionScope = connection.ConfigureAwait(false);
        await connection.OpenAsync(ct).ConfigureAwait(false);
        if (string.IsNullOrEmpty(connection.Database))
        {
            throw new ArgumentException("The connection string must name the database to apply the schema to.", nameof(connectionString));
        }

        foreach (var (_, sql) in Scripts)
        {
            var command = new MySqlCommand(sql, connection);
            await using var commandScope = command.ConfigureAwait(false);
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
    }

    private static KeyValuePair<string, string>[] LoadScripts()
    {
        var assembly = typeof(RideBookingSchema).Assembly;
        return [.. assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(name => new KeyValuePair<string, string>(name[ResourcePrefix.Length..], Read(assembly, name)))];
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
