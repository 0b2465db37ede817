using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Internal;
using RideBooking.Data.Testing;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// A database built by the 0.1.0 scripts (verbatim copies under Schema010/), holding rows in every table,
/// upgraded by <see cref="RideBookingSchema.ApplyAsync"/>.
/// </summary>
public sealed class SchemaUpgradeTests : IAsyncLifetime
{
    private static readonly string[] Schema010Scripts = ["001_users_and_drivers.sql", "002_rides_and_payments.sql", "003_driver_earnings.sql"];

    private RideBookingTestDatabase? _database;

    /// <summary>The application account: what the library runs as.</summary>
    private string ConnectionString => _database!.ConnectionString;

    /// <summary>The migration account: builds the 0.1.0 schema and upgrades it, as a DBA's migrations would.</summary>
    private string MigrationConnectionString => _database!.ConnectionStringFor(RideBookingTestAccount.Migration);

    public async Task InitializeAsync()
    {
        // The test kit applies the current schema; drop it all and build the 0.1.0 schema instead.
        _database = await RideBookingTestDatabase.CreateAsync();
        // Dropping tables is the administrator's (the migration account has no DROP); the table grants of the
        // application account stay with the table names and apply again once the upgrade recreates them.
        await using var connection = new MySqlConnection(_database.ConnectionStringFor(RideBookingTestAccount.Administrator));
        await connection.OpenAsync();
        var tables = (await connection.QueryAsync<string>("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")).ToList();
        await connection.ExecuteAsync("SET FOREIGN_KEY_CHECKS = 0");
        foreach (var table in tables)
        {
            await connection.ExecuteAsync($"DROP TABLE `{table}`");
        }

        await connection.ExecuteAsync("SET FOREIGN_KEY_CHECKS = 1");
        foreach (var name in Schema010Scripts)
        {
            await connection.ExecuteAsync(Schema010(name));
        }
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    private static string Schema010(string name)
    {
        using var stream = typeof(SchemaUpgradeTests).Assembly.GetManifestResourceStream("Schema010." + name)
            ?? throw new InvalidOperationException("Missing test resource " + name);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private async Task<MySqlConnection> OpenAsync()
    {
        var connection = new MySqlConnection(MigrationConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Ids whose low byte (the logical shard) and the bits around it take many patterns.</summary>
    private static List<long> Ids()
    {
        var generator = new IdGenerator(TimeProvider.System, workerId: 1023);
        var ids = new List<long>
        {
            256,                                          // shard 0, the first bit above it set
            1L << 40,                                     // shard 0
            1,                                            // shard 1
            (1L << 9) | 1,                                // shard 1, a bit above it set
            128,                                          // shard 128
            255,                                          // shard 255, no other bit
            (1L << 22) - 1,                               // all 22 low bits, shard 255
            long.MaxValue,                                // shard 255
            long.MaxValue ^ 255L,                         // every bit but the shard, shard 0
            0xA5L | (1L << 40) | 0x1200,                  // shard 165
            0x5AL | (1L << 62),                           // shard 90
            0x0FL | (0x3FFL << 22),                       // shard 15
            generator.Next(),
            generator.Next(),
        };
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.True(id > 0));
        return ids;
    }

    private static int ShardOf(long id) => RideBooking.Data.Internal.IdGenerator.LogicalShardOf(id);

    private static async Task SeedAsync(MySqlConnection connection)
    {
        var ids = Ids();
        var at = new DateTime(2026, 3, 4, 5, 6, 7, DateTimeKind.Utc).AddTicks(1_234_560);
        await connection.ExecuteAsync(
            "INSERT INTO users (id, name, phone, created_at) VALUES (@Id, @Name, @Phone, @At)",
            ids.Select((id, i) => new { Id = id, Name = i % 3 == 0 ? $"Zoë 🚕 {i}" : $"Rider {i}", Phone = $"+9180{i:D8}", At = at.AddSeconds(i) }));
        await connection.ExecuteAsync(
            "INSERT INTO drivers (id, name, vehicle_number, available, created_at) VALUES (@Id, @Name, @Vehicle, @Available, @At)",
            ids.Select((id, i) => new { Id = id, Name = $"Driver {i} ñ", Vehicle = $"KA-{i:D2}-AB-{i * 7:D4}", Available = i % 2 == 1, At = at.AddMinutes(i) }));

        // Every user has one active ride (REQUESTED or ACCEPTED, with its own driver), one completed and one cancelled.
        var rides = new List<(long Id, long UserId, long DriverId, string Status, decimal Fare)>();
        string[] states = ["REQUESTED", "ACCEPTED", "COMPLETED", "CANCELLED"];
        for (var u = 0; u < ids.Count; u++)
        {
            var active = states[u % 2];
            rides.Add((ids[u] ^ (1L << 23), ids[u], ids[u], active, 10.25m + u));
            rides.Add((ids[u] ^ (2L << 23), ids[u], ids[(u + 1) % ids.Count], "COMPLETED", 99_999_999.99m - u));
            rides.Add((ids[u] ^ (3L << 23), ids[u], ids[(u + 2) % ids.Count], "CANCELLED", 0m));
        }

        Assert.Equal(rides.Count, rides.Select(r => r.Id).Distinct().Count());
        await connection.ExecuteAsync(
            "INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at) VALUES (@Id, @UserId, @DriverId, @Status, @Fare, @At, @Updated)",
            rides.Select((r, i) => new { r.Id, r.UserId, r.DriverId, r.Status, r.Fare, At = at.AddSeconds(i), Updated = at.AddSeconds(i + 1) }));

        string[] paymentStates = ["PENDING", "SUCCEEDED", "FAILED"];
        var completed = rides.Where(r => r.Status == "COMPLETED").ToList();
        await connection.ExecuteAsync(
            "INSERT INTO payments (id, ride_id, transaction_id, amount, status, created_at, updated_at) VALUES (@Id, @RideId, @TransactionId, @Amount, @Status, @At, @At)",
            completed.Select((r, i) => new
            {
                Id = r.Id ^ (1L << 50),
                RideId = r.Id,
                TransactionId = i % 2 == 0 ? $"psp-{i}" : $"PSP-{i - 1}",
                Amount = r.Fare,
                Status = paymentStates[i % 3],
                At = at.AddHours(i),
            }));
        await connection.ExecuteAsync(
            "INSERT INTO driver_earnings (driver_id, total_earnings, completed_rides, updated_at) VALUES (@DriverId, @Total, @Count, @At)",
            completed.GroupBy(r => r.DriverId).Select(g => new { DriverId = g.Key, Total = g.Sum(r => r.Fare), Count = g.Count(), At = at }));
    }

    /// <summary>Per table: row count and SHA-256 of the given columns of every row, in primary key order.</summary>
    private static async Task<Dictionary<string, string>> ChecksumsAsync(MySqlConnection connection, Dictionary<string, List<string>> columns)
    {
        var checksums = new Dictionary<string, string>();
        foreach (var (table, names) in columns)
        {
            var rows = await SchemaSnapshot.RowsAsync(connection, table, names);
            checksums[table] = $"{rows.Count} rows, sha256 {Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', rows))))}";
        }

        return checksums;
    }

    [Fact]
    public async Task Upgrading_a_0_1_0_database_keeps_every_row_and_adds_logical_shards_and_history()
    {
        await using var connection = await OpenAsync();
        await SeedAsync(connection);
        Assert.Empty(await RideBookingSchema.GetAppliedScriptsAsync(ConnectionString));
        Assert.Equal(
            ["driver_earnings", "drivers", "payments", "rides", "users"],
            (await connection.QueryAsync<string>("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")).Order(StringComparer.Ordinal));

        var originalColumns = new Dictionary<string, List<string>>();
        foreach (var table in SchemaSnapshot.Tables)
        {
            originalColumns[table] = await SchemaSnapshot.ColumnsAsync(connection, table);
            Assert.DoesNotContain("logical_shard", originalColumns[table]);
        }

        var checksumsBefore = await ChecksumsAsync(connection, originalColumns);
        var describedBefore = await SchemaSnapshot.DescribeAsync(connection);
        Assert.All(checksumsBefore.Values, c => Assert.DoesNotContain("0 rows", c, StringComparison.Ordinal));
        var started = DateTime.UtcNow;

        await RideBookingSchema.ApplyAsync(MigrationConnectionString);

        var finished = DateTime.UtcNow;

        // Every original row and column is intact, and every 0.1.0 column, index and constraint is still there as it was,
        // except one payment per ride (uq_payments_ride), which 009 replaces by one live payment per ride.
        Assert.Equal(checksumsBefore, await ChecksumsAsync(connection, originalColumns));
        var describedAfter = (await SchemaSnapshot.DescribeAsync(connection)).Split('\n');
        static bool ReplacedBy009(string line) => line.StartsWith("payments|uq_payments_ride|", StringComparison.Ordinal);
        static bool AddedBy009(string line) =>
            line.StartsWith("payments|active_ride_id|", StringComparison.Ordinal)
            || line.StartsWith("payments|uq_payments_active_ride|", StringComparison.Ordinal)
            || line.StartsWith("payments|ix_payments_ride|", StringComparison.Ordinal);
        Assert.Contains(describedBefore.Split('\n'), ReplacedBy009);
        Assert.Equal(
            describedBefore.Split('\n').Where(line => !ReplacedBy009(line)),
            describedAfter.Where(line => SchemaSnapshot.Tables.Contains(line.Split('|')[0]) && !line.Contains("|logical_shard|", StringComparison.Ordinal) && !line.Contains("_logical_shard|", StringComparison.Ordinal) && !AddedBy009(line)));
        Assert.DoesNotContain(describedAfter, ReplacedBy009);
        Assert.Contains("payments|uq_payments_active_ride|0|1|active_ride_id|A", describedAfter);

        foreach (var table in SchemaSnapshot.Tables)
        {
            var key = SchemaSnapshot.PrimaryKey(table);

            // The logical shard of each row is the one its id carries.
            var rows = (await connection.QueryAsync<(long Key, int? Shard)>($"SELECT `{key}`, logical_shard FROM `{table}` ORDER BY `{key}`")).ToList();
            Assert.NotEmpty(rows);
            Assert.All(rows, row => Assert.Equal(ShardOf(row.Key), row.Shard));

            // A stored generated column of an unsigned small integer type.
            var column = await connection.QuerySingleAsync<(string Type, string Extra)>(
                "SELECT column_type, extra FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = @Table AND column_name = 'logical_shard'",
                new { Table = table });
            Assert.StartsWith("smallint", column.Type, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("unsigned", column.Type, StringComparison.OrdinalIgnoreCase);
            Assert.Matches("(?i)(STORED|PERSISTENT) GENERATED", column.Extra);

            // The index that selects a logical shard's rows in primary key order.
            var index = await connection.QueryAsync<string>(
                "SELECT CONCAT(non_unique, ':', column_name) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = @Table AND index_name = @Index ORDER BY seq_in_index",
                new { Table = table, Index = $"ix_{table}_logical_shard" });
            Assert.Equal(["1:logical_shard", "1:" + key], index);
        }

        // The seeded ids cover the first, the last and shards in between.
        Assert.Superset(
            new HashSet<int> { 0, 1, 15, 90, 128, 165, 255 },
            (await connection.QueryAsync<int>("SELECT DISTINCT logical_shard FROM users")).ToHashSet());

        // schema_history lists 001..005 with the SHA-256 of each script and the UTC time it was applied.
        var history = (await connection.QueryAsync<(string Script, string Checksum, DateTime AppliedAt)>(
            "SELECT script, checksum, applied_at FROM schema_history ORDER BY script")).ToList();
        Assert.Equal(RideBookingSchema.Scripts.Select(s => s.Key), history.Select(h => h.Script));
        Assert.Equal(["001_users_and_drivers.sql", "002_rides_and_payments.sql", "003_driver_earnings.sql", "004_schema_history.sql", "005_logical_shards.sql", "006_cross_shard.sql", "007_unique_keys.sql", "008_shard_placements.sql", "009_payment_attempts.sql", "010_idempotency_keys.sql"], history.Select(h => h.Script));
        Assert.Equal(RideBookingSchema.Scripts.Select(s => RideBookingSchema.Checksum(s.Value)), history.Select(h => h.Checksum));
        Assert.All(history, h => Assert.InRange(h.AppliedAt, started.AddSeconds(-1), finished.AddSeconds(1)));
        Assert.Equal(history.Select(h => h.Script), await RideBookingSchema.GetAppliedScriptsAsync(ConnectionString));

        // Applying again changes nothing: no schema change, no row written, history kept as first recorded.
        var everything = await SchemaSnapshot.EverythingAsync(connection);
        await RideBookingSchema.ApplyAsync(MigrationConnectionString);
        Assert.Equal(everything, await SchemaSnapshot.EverythingAsync(connection));
    }

    [Fact]
    public async Task The_library_works_on_an_upgraded_database_and_new_rows_get_their_logical_shard()
    {
        await RideBookingSchema.ApplyAsync(MigrationConnectionString);
        await using var services = DatabaseFixture.BuildServices(ConnectionString);
        var user = await services.GetRequiredService<IUserRepository>().CreateAsync("Asha", "+918012345678");
        var driver = await services.GetRequiredService<IDriverRepository>().CreateAsync("Ravi", "KA-01-AB-1234");
        var booking = services.GetRequiredService<IRideBookingService>();
        var ride = await booking.BookAsync(user.Id, driver.Id, 249.50m);
        await booking.AcceptAsync(ride.Id, driver.Id);
        await booking.CompleteAsync(ride.Id);
        var payment = await services.GetRequiredService<IPaymentRepository>().RecordAsync(ride.Id, "psp-upgraded", 249.50m);

        await using var connection = await OpenAsync();
        Assert.Equal(ShardOf(user.Id), await connection.ExecuteScalarAsync<int>("SELECT logical_shard FROM users WHERE id = @Id", new { user.Id }));
        Assert.Equal(ShardOf(driver.Id), await connection.ExecuteScalarAsync<int>("SELECT logical_shard FROM drivers WHERE id = @Id", new { driver.Id }));
        Assert.Equal(ShardOf(ride.Id), await connection.ExecuteScalarAsync<int>("SELECT logical_shard FROM rides WHERE id = @Id", new { ride.Id }));
        Assert.Equal(ShardOf(payment.Payment.Id), await connection.ExecuteScalarAsync<int>("SELECT logical_shard FROM payments WHERE id = @Id", new { payment.Payment.Id }));
        Assert.Equal(ShardOf(driver.Id), await connection.ExecuteScalarAsync<int>("SELECT logical_shard FROM driver_earnings WHERE driver_id = @Id", new { driver.Id }));
    }
}
