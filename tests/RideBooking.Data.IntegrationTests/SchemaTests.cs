using Dapper;

namespace RideBooking.Data.IntegrationTests;

public sealed class SchemaTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private async Task<string> DescribeAsync()
    {
        await using var connection = await db.OpenAdminAsync();
        return await SchemaSnapshot.DescribeAsync(connection);
    }

    [Fact]
    public async Task Applying_the_schema_again_changes_nothing()
    {
        await using var connection = await db.OpenAdminAsync();
        var before = await DescribeAsync();
        var history = await SchemaSnapshot.EverythingAsync(connection);
        // As a DBA would: the migration account of schema/grants/01_migration_user.sql applies the schema.
        await RideBookingSchema.ApplyAsync(db.MigrationConnectionString);
        await RideBookingSchema.ApplyAsync(db.MigrationConnectionString);
        var after = await DescribeAsync();

        Assert.Equal(before, after);
        Assert.Equal(history, await SchemaSnapshot.EverythingAsync(connection));
        Assert.Contains("rides|uq_rides_active_user|0|1|active_user_id", after, StringComparison.Ordinal);
        Assert.Contains("payments|uq_payments_transaction|0|1|transaction_id", after, StringComparison.Ordinal);
        Assert.DoesNotContain("idx_payment_txn", after, StringComparison.Ordinal);
        Assert.Contains("schema_history|PRIMARY|0|1|script", after, StringComparison.Ordinal);
        foreach (var table in SchemaSnapshot.Tables)
        {
            Assert.Contains($"{table}|ix_{table}_logical_shard|1|1|logical_shard", after, StringComparison.Ordinal);
            Assert.Contains($"{table}|ix_{table}_logical_shard|1|2|{SchemaSnapshot.PrimaryKey(table)}", after, StringComparison.Ordinal);
        }

        Assert.Equal(RideBookingSchema.Scripts.Select(s => s.Key), await RideBookingSchema.GetAppliedScriptsAsync(db.ConnectionString));
    }

    [Fact]
    public async Task The_database_enforces_not_null_money_checks_and_states()
    {
        var user = await db.NewUserAsync();
        await using var connection = await db.OpenAsync();
        var insert = "INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at) VALUES (@Id, @UserId, 1, @Status, @Fare, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))";
        await Assert.ThrowsAnyAsync<MySqlConnector.MySqlException>(() => connection.ExecuteAsync(insert, new { Id = 1, UserId = user.Id, Status = "COMPLETED", Fare = -1m }));
        await Assert.ThrowsAnyAsync<MySqlConnector.MySqlException>(() => connection.ExecuteAsync(insert, new { Id = 2, UserId = user.Id, Status = "FLYING", Fare = 1m }));
        await Assert.ThrowsAnyAsync<MySqlConnector.MySqlException>(() => connection.ExecuteAsync(insert, new { Id = 3, UserId = user.Id, Status = "COMPLETED", Fare = (decimal?)null }));
        await Assert.ThrowsAnyAsync<MySqlConnector.MySqlException>(() => connection.ExecuteAsync(insert, new { Id = 4, UserId = long.MaxValue, Status = "COMPLETED", Fare = 1m }));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides WHERE id IN (1, 2, 3, 4)"));
    }

    [Fact]
    public async Task ApplyAsync_runs_the_scripts_that_use_session_variables_whatever_the_connection_string_says()
    {
        // 005 keeps its state in session variables, which MySqlConnector refuses unless AllowUserVariables is set;
        // ApplyAsync sets it on its own connection, whatever the caller's connection string says.
        var script = Assert.Single(RideBookingSchema.Scripts, s => s.Key == "005_logical_shards.sql").Value;
        var refusing = new MySqlConnector.MySqlConnectionStringBuilder(db.MigrationConnectionString) { AllowUserVariables = false }.ConnectionString;
        await using var connection = new MySqlConnector.MySqlConnection(refusing);
        await connection.OpenAsync();
        await Assert.ThrowsAnyAsync<MySqlConnector.MySqlException>(() => connection.ExecuteAsync(script));

        await RideBookingSchema.ApplyAsync(refusing);
        Assert.Equal(RideBookingSchema.Scripts.Select(s => s.Key), await RideBookingSchema.GetAppliedScriptsAsync(refusing));
    }

    [Fact]
    public async Task Applied_scripts_need_a_database_and_are_empty_without_the_history_table()
    {
        var noDatabase = new MySqlConnector.MySqlConnectionStringBuilder(db.ConnectionString) { Database = string.Empty }.ConnectionString;
        await Assert.ThrowsAsync<ArgumentException>(() => RideBookingSchema.GetAppliedScriptsAsync(noDatabase));
        await Assert.ThrowsAsync<ArgumentException>(() => RideBookingSchema.ApplyAsync(noDatabase));
        await Assert.ThrowsAsync<ArgumentException>(() => RideBookingSchema.GetAppliedScriptsAsync(" "));

        // A database of its own, as the 0.1.0 scripts (or a migration tool) would leave it: no schema_history.
        await using var other = await Testing.RideBookingTestDatabase.CreateAsync();
        await using var connection = new MySqlConnector.MySqlConnection(other.ConnectionStringFor(Testing.RideBookingTestAccount.Administrator));
        await connection.OpenAsync();
        await connection.ExecuteAsync("DROP TABLE schema_history");
        Assert.Empty(await RideBookingSchema.GetAppliedScriptsAsync(other.ConnectionString));
    }

    [Fact]
    public void The_embedded_scripts_are_the_files_of_the_schema_folder()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "schema");
        var files = Directory.GetFiles(folder, "*.sql").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(files.Select(Path.GetFileName), RideBookingSchema.Scripts.Select(s => s.Key));
        Assert.Equal(files.Select(File.ReadAllText), RideBookingSchema.Scripts.Select(s => s.Value));
    }
}
