using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using MySqlConnector;

namespace RideBooking.Data;

/// <summary>The SQL schema scripts shipped in this package (the same files as the repository's <c>schema/</c> folder).</summary>
public static class RideBookingSchema
{
    private const string ResourcePrefix = "RideBooking.Data.Schema.";

    /// <summary>The script that creates <c>schema_history</c>; scripts applied before it are recorded once it has run.</summary>
    internal const string HistoryScript = "004_schema_history.sql";

    internal const string RecordScript = """
        INSERT INTO schema_history (script, checksum, applied_at) VALUES (@Script, @Checksum, @AppliedAt)
        ON DUPLICATE KEY UPDATE checksum = checksum
        """;

    internal const string HistoryTableExists = """
        SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = @Table
        """;

    internal const string AppliedScripts = "SELECT script FROM schema_history ORDER BY script";

    /// <summary>Gets the schema scripts in the order they must run, as (file name, SQL text).</summary>
    /// <value>
    /// Every script is idempotent (it creates or adds only what is missing) and runs unchanged on MySQL 8.0+ and
    /// MariaDB 10.6+, without stored procedures or triggers.
    /// </value>
    public static IReadOnlyList<KeyValuePair<string, string>> Scripts { get; } = LoadScripts();

    /// <summary>
    /// Applies every schema script, in order, to the database named in <paramref name="connectionString"/>, and
    /// records each one in the <c>schema_history</c> table (file name, SHA-256 of its text, UTC time it was first applied).
    /// Idempotent: running it again changes nothing, and a script already recorded keeps its first record.
    /// </summary>
    /// <param name="connectionString">A connection string that names the target database.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>A task that completes when the schema is in place.</returns>
    /// <remarks>
    /// Scripts that run before <c>schema_history</c> exists (the first three on a new database) are recorded as soon
    /// as the script creating it has run. The connection is opened with <c>AllowUserVariables=true</c>, since the
    /// scripts keep intermediate values in session variables.
    /// </remarks>
    public static async Task ApplyAsync(string connectionString, CancellationToken ct = default)
    {
        var connection = await OpenAsync(connectionString, allowUserVariables: true, ct).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);

        var unrecorded = new List<(string Script, DateTime AppliedAt)>();
        var historyExists = false;
        foreach (var (name, sql) in Scripts)
        {
            var command = new MySqlCommand(sql, connection);
            await using (command.ConfigureAwait(false))
            {
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            unrecorded.Add((name, DateTime.UtcNow));
            historyExists |= string.Equals(name, HistoryScript, StringComparison.Ordinal);
            if (!historyExists)
            {
                continue;
            }

            foreach (var (script, appliedAt) in unrecorded)
            {
                var record = new MySqlCommand(RecordScript, connection);
                await using (record.ConfigureAwait(false))
                {
                    record.Parameters.AddWithValue("@Script", script);
                    record.Parameters.AddWithValue("@Checksum", Checksums[script]);
                    record.Parameters.AddWithValue("@AppliedAt", appliedAt);
                    await record.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }
            }

            unrecorded.Clear();
        }
    }

    /// <summary>
    /// Gets the names of the scripts recorded in the <c>schema_history</c> table of the database named in
    /// <paramref name="connectionString"/>, in the order they run (for example <c>001_users_and_drivers.sql</c>
    /// through <c>005_logical_shards.sql</c>), so a host or a health check can tell the schema version.
    /// </summary>
    /// <param name="connectionString">A connection string that names the database.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>
    /// The recorded script names, ordered by name; an empty list when the database has no <c>schema_history</c> table
    /// (a database built by the 0.1.0 scripts, or by a migration tool that keeps its own history).
    /// </returns>
    /// <remarks>
    /// Only <see cref="ApplyAsync"/> writes <c>schema_history</c>. Compare the result with the keys of
    /// <see cref="Scripts"/> to tell whether the database is up to date.
    /// </remarks>
    public static async Task<IReadOnlyList<string>> GetAppliedScriptsAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var connection = await OpenAsync(connectionString, allowUserVariables: false, cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);

        var exists = new MySqlCommand(HistoryTableExists, connection);
        await using (exists.ConfigureAwait(false))
        {
            exists.Parameters.AddWithValue("@Table", "schema_history");
            if (Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                return [];
            }
        }

        var scripts = new List<string>();
        var select = new MySqlCommand(AppliedScripts, connection);
        await using (select.ConfigureAwait(false))
        {
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    scripts.Add(reader.GetString(0));
                }
            }
        }

        return scripts;
    }

    /// <summary>SHA-256 of a script's text (its UTF-8 bytes), as 64 lowercase hex digits: what <c>schema_history.checksum</c> holds.</summary>
    /// <param name="sql">The script text.</param>
    /// <returns>The checksum.</returns>
    internal static string Checksum(string sql) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));

    private static Dictionary<string, string> Checksums { get; } = Scripts.ToDictionary(s => s.Key, s => Checksum(s.Value), StringComparer.Ordinal);

    private static async Task<MySqlConnection> OpenAsync(string connectionString, bool allowUserVariables, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        if (allowUserVariables)
        {
            connectionString = new MySqlConnectionStringBuilder(connectionString) { AllowUserVariables = true }.ConnectionString;
        }

        var connection = new MySqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            if (string.IsNullOrEmpty(connection.Database))
            {
                throw new ArgumentException("The connection string must name the database.", nameof(connectionString));
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
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
