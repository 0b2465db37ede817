using MySqlConnector;

namespace RideBooking.Data.Testing.Internal;

/// <summary>The few statements the test kit runs, each on a connection of its own.</summary>
internal static class Sql
{
    /// <summary>A database name unique per call, sortable by creation time, within MySQL's 64 characters.</summary>
    public static string NewDatabaseName() => $"rb_test_{DateTime.UtcNow:yyyyMMddHHmmss}_{Guid.NewGuid():N}"[..40];

    public static Task CreateDatabaseAsync(string serverConnectionString, string name, CancellationToken ct) =>
        ExecuteAsync(serverConnectionString, [$"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"], ct);

    public static Task DropDatabaseAsync(string serverConnectionString, string name, CancellationToken ct) =>
        ExecuteAsync(serverConnectionString, [$"DROP DATABASE IF EXISTS `{name}`"], ct);

    /// <summary>The connection string of <paramref name="database"/> on the server of <paramref name="serverConnectionString"/>.</summary>
    public static string WithDatabase(string serverConnectionString, string database) =>
        new MySqlConnectionStringBuilder(serverConnectionString) { Database = database }.ConnectionString;

    /// <summary>"host:port" of a connection string: safe to show, unlike the connection string.</summary>
    public static string Endpoint(string connectionString)
    {
        var builder = new MySqlConnectionStringBuilder(connectionString);
        return $"{builder.Server}:{builder.Port}";
    }

    public static async Task ExecuteAsync(string connectionString, IEnumerable<string> statements, CancellationToken ct)
    {
        var connection = new MySqlConnection(connectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            foreach (var statement in statements)
            {
                var command = new MySqlCommand(statement, connection);
                await using (command.ConfigureAwait(false))
                {
                    await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }
            }
        }
    }

    public static async Task<object?> ScalarAsync(string connectionString, string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        var connection = new MySqlConnection(connectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            var command = new MySqlCommand(sql, connection);
            await using (command.ConfigureAwait(false))
            {
                foreach (var (name, value) in parameters)
                {
                    command.Parameters.AddWithValue(name, value);
                }

                var result = await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
                return result is DBNull ? null : result;
            }
        }
    }
}
