using Dapper;
using MySqlConnector;

namespace RideBooking.Data.IntegrationTests;

/// <summary>What information_schema says about the current database, and the stored rows, as comparable text.</summary>
internal static class SchemaSnapshot
{
    public static readonly string[] Tables = ["users", "drivers", "rides", "payments", "driver_earnings"];

    public static string PrimaryKey(string table) => table switch
    {
        "driver_earnings" or "driver_holds" => "driver_id",
        "cross_shard_outbox" or "cross_shard_applied" => "ride_id",
        "phone_claims" => "phone",
        "transaction_claims" => "transaction_id",
        "shard_placements" => "logical_shard",
        // A composite key: the backquotes around the whole value close and reopen around each column.
        "idempotency_keys" => "operation`, `scope_id`, `idempotency_key",
        _ => "id",
    };

    /// <summary>Columns, indexes and constraints of every table, one line each.</summary>
    public static async Task<string> DescribeAsync(MySqlConnection connection)
    {
        var columns = await connection.QueryAsync<string>("""
            SELECT CONCAT_WS('|', table_name, column_name, ordinal_position, column_type, is_nullable, IFNULL(column_default, '-'), extra, IFNULL(generation_expression, ''), IFNULL(collation_name, ''))
            FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position
            """);
        var indexes = await connection.QueryAsync<string>("""
            SELECT CONCAT_WS('|', table_name, index_name, non_unique, seq_in_index, column_name, IFNULL(collation, ''))
            FROM information_schema.statistics WHERE table_schema = DATABASE() ORDER BY table_name, index_name, seq_in_index
            """);
        var constraints = await connection.QueryAsync<string>("""
            SELECT CONCAT_WS('|', table_name, constraint_name, constraint_type)
            FROM information_schema.table_constraints WHERE table_schema = DATABASE() ORDER BY table_name, constraint_name
            """);
        return string.Join('\n', columns.Concat(indexes).Concat(constraints));
    }

    /// <summary>The column names of a table, in table order.</summary>
    public static async Task<List<string>> ColumnsAsync(MySqlConnection connection, string table) =>
        (await connection.QueryAsync<string>(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = @Table ORDER BY ordinal_position",
            new { Table = table })).ToList();

    /// <summary>Every row of <paramref name="table"/> as text, only the given columns, in primary key order (values quoted by the server).</summary>
    public static async Task<List<string>> RowsAsync(MySqlConnection connection, string table, IEnumerable<string> columns)
    {
        // Identifiers come from information_schema or constants of the tests, never from input.
        var select = string.Join(", ", columns.Select(c => $"QUOTE(`{c}`)"));
        return (await connection.QueryAsync<string>($"SELECT CONCAT_WS('|', {select}) FROM `{table}` ORDER BY `{PrimaryKey(table)}`")).ToList();
    }

    /// <summary>Every table and every row (all columns), schema_history included: equal means nothing changed.</summary>
    public static async Task<string> EverythingAsync(MySqlConnection connection)
    {
        var parts = new List<string> { await DescribeAsync(connection) };
        var tables = await connection.QueryAsync<string>("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name");
        foreach (var table in tables)
        {
            var rows = table == "schema_history"
                ? (await connection.QueryAsync<string>("SELECT CONCAT_WS('|', script, checksum, applied_at) FROM schema_history ORDER BY script")).ToList()
                : await RowsAsync(connection, table, await ColumnsAsync(connection, table));
            parts.Add(table + ":\n" + string.Join('\n', rows));
        }

        return string.Join("\n\n", parts);
    }
}
