using Dapper;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// Selecting one logical shard's rows (what moving a logical shard to another server reads) uses the
/// <c>ix_&lt;table&gt;_logical_shard</c> index in primary key order, on tables whose ids spread over all 256 logical shards.
/// </summary>
public sealed class LogicalShardExplainTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private const int Rows = 4096;
    private const int Shard = 42;

    /// <summary>Row i sits on logical shard i % 256, with other bits above and below the shard.</summary>
    private static long IdOf(int i) => ((long)(i / 256 + 1) << 30) | ((long)(i % 256) << 14) | (long)(i & 0x3FFF);

    public async Task InitializeAsync()
    {
        await using var connection = await db.OpenAsync();
        if (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides") > 0)
        {
            return;
        }

        var at = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var ids = Enumerable.Range(0, Rows).Select(IdOf).ToList();
        await connection.ExecuteAsync("INSERT INTO users (id, name, phone, created_at) VALUES (@Id, 'u', CONCAT('p', @Id), @At)", ids.Select(id => new { Id = id, At = at }));
        await connection.ExecuteAsync("INSERT INTO drivers (id, name, vehicle_number, available, created_at) VALUES (@Id, 'd', 'v', TRUE, @At)", ids.Select(id => new { Id = id, At = at }));
        await connection.ExecuteAsync(
            "INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at) VALUES (@Id, @Id, @Id, 'COMPLETED', 10.5, @At, @At)",
            ids.Select(id => new { Id = id, At = at }));
        await connection.ExecuteAsync(
            "INSERT INTO payments (id, ride_id, transaction_id, amount, status, created_at, updated_at) VALUES (@Id, @Id, CONCAT('t', @Id), 10.5, 'SUCCEEDED', @At, @At)",
            ids.Select(id => new { Id = id, At = at }));
        await connection.ExecuteAsync(
            "INSERT INTO driver_earnings (driver_id, total_earnings, completed_rides, updated_at) VALUES (@Id, 10.5, 1, @At)",
            ids.Select(id => new { Id = id, At = at }));
        await connection.ExecuteAsync("ANALYZE TABLE users, drivers, rides, payments, driver_earnings");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<List<IDictionary<string, object>>> ExplainAsync(string sql, object parameters)
    {
        await using var connection = await db.OpenAsync();
        var rows = await connection.QueryAsync("EXPLAIN " + sql, parameters);
        return rows.Select(r => (IDictionary<string, object>)r).ToList();
    }

    private static string Text(IDictionary<string, object> row, string column) =>
        row.TryGetValue(column, out var value) ? value?.ToString() ?? string.Empty : string.Empty;

    [Theory]
    [InlineData("users")]
    [InlineData("drivers")]
    [InlineData("rides")]
    [InlineData("payments")]
    [InlineData("driver_earnings")]
    public async Task A_logical_shards_rows_are_read_from_the_logical_shard_index_in_key_order(string table)
    {
        var key = SchemaSnapshot.PrimaryKey(table);

        var all = Assert.Single(await ExplainAsync($"SELECT * FROM {table} WHERE logical_shard = @Shard ORDER BY {key}", new { Shard }));
        Assert.Equal($"ix_{table}_logical_shard", Text(all, "key"));
        Assert.Equal("ref", Text(all, "type"));
        Assert.DoesNotContain("filesort", Text(all, "Extra"), StringComparison.OrdinalIgnoreCase);

        // The batched form a mover pages with: after the last key copied, in key order.
        var batch = Assert.Single(await ExplainAsync(
            $"SELECT * FROM {table} WHERE logical_shard = @Shard AND {key} > @After ORDER BY {key} LIMIT @Limit",
            new { Shard, After = IdOf(Shard), Limit = 1000 }));
        Assert.Equal($"ix_{table}_logical_shard", Text(batch, "key"));
        Assert.Equal("range", Text(batch, "type"));
        Assert.DoesNotContain("filesort", Text(batch, "Extra"), StringComparison.OrdinalIgnoreCase);

        // And the query returns exactly that shard's rows.
        await using var connection = await db.OpenAsync();
        var keys = (await connection.QueryAsync<long>($"SELECT {key} FROM {table} WHERE logical_shard = @Shard ORDER BY {key}", new { Shard })).ToList();
        Assert.Equal(Enumerable.Range(0, Rows).Where(i => i % 256 == Shard).Select(IdOf).Order(), keys);
    }
}
