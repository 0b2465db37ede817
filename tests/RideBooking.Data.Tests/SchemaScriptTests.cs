using System.Text.RegularExpressions;

namespace RideBooking.Data.Tests;

public sealed partial class SchemaScriptTests
{
    private static readonly string[] ShardedTables = ["users", "drivers", "rides", "payments", "driver_earnings"];

    /// <summary>The script text without its <c>--</c> comments: what the server runs.</summary>
    private static string Code(string sql) => string.Join('\n', sql.Split('\n').Select(line => line.Split("--")[0]));

    private static string Script(string name) => Assert.Single(RideBookingSchema.Scripts, s => s.Key == name).Value;

    private static string Schema010(string name)
    {
        using var stream = typeof(SchemaScriptTests).Assembly.GetManifestResourceStream("Schema010." + name);
        Assert.NotNull(stream);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [Fact]
    public void Scripts_are_embedded_in_order()
    {
        var names = RideBookingSchema.Scripts.Select(s => s.Key).ToList();
        Assert.Equal(
            ["001_users_and_drivers.sql", "002_rides_and_payments.sql", "003_driver_earnings.sql", "004_schema_history.sql", "005_logical_shards.sql", "006_cross_shard.sql", "007_unique_keys.sql", "008_shard_placements.sql", "009_payment_attempts.sql", "010_idempotency_keys.sql"],
            names);
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        Assert.Contains(RideBookingSchema.HistoryScript, names);
    }

    [Theory]
    [InlineData("001_users_and_drivers.sql", "ca84056107f8f53408adad118dc251cd30b302e1d12cffd4e2edb2aceff92346")]
    [InlineData("002_rides_and_payments.sql", "a243f170dc64a33c09588f9b709d45d3672ce432728bedd36d9ed4f0ae687300")]
    [InlineData("003_driver_earnings.sql", "f7deac6c6523792ed4b5a765bee2f46dc209fc1e0dc88e4c5ebcc971c29a09f3")]
    public void The_scripts_shipped_in_0_1_0_are_unchanged(string name, string sha256)
    {
        // DBAs copied these files into their migrations: they must never change. The copies under
        // tests/RideBooking.Data.IntegrationTests/Schema010 build the 0.1.0 database of the upgrade test,
        // and the checksums pin both, so editing a shipped file and its copy together still fails here.
        Assert.Equal(Schema010(name), Script(name));
        Assert.Equal(sha256, RideBookingSchema.Checksum(Script(name).ReplaceLineEndings("\n")));
    }

    [Fact]
    public void Checksum_is_lowercase_hex_sha256_of_the_utf8_text()
    {
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", RideBookingSchema.Checksum(string.Empty));
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", RideBookingSchema.Checksum("abc"));
        Assert.All(RideBookingSchema.Scripts, s => Assert.Matches("^[0-9a-f]{64}$", RideBookingSchema.Checksum(s.Value)));
    }

    [Fact]
    public void Every_create_is_idempotent_and_portable()
    {
        foreach (var (name, sql) in RideBookingSchema.Scripts)
        {
            var code = Code(sql);
            Assert.All(CreateStatement().Matches(code), m => Assert.StartsWith("CREATE TABLE IF NOT EXISTS", m.Value, StringComparison.OrdinalIgnoreCase));
            Assert.DoesNotMatch(NonPortable(), code);
            Assert.DoesNotContain("AUTO_INCREMENT", code, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotMatch(FloatMoney(), code);
            _ = name;
        }
    }

    [Theory]
    [InlineData("004_schema_history.sql")]
    [InlineData("005_logical_shards.sql")]
    [InlineData("006_cross_shard.sql")]
    [InlineData("007_unique_keys.sql")]
    [InlineData("008_shard_placements.sql")]
    [InlineData("009_payment_attempts.sql")]
    [InlineData("010_idempotency_keys.sql")]
    public void New_scripts_use_nothing_mysql_or_mariadb_lacks(string name)
    {
        var code = Code(Script(name));
        Assert.DoesNotMatch(NonPortable(), code);
        // MariaDB-only forms (MySQL has only CREATE TABLE IF NOT EXISTS and DROP TABLE IF EXISTS).
        Assert.DoesNotMatch(MariaDbOnlyIfExists(), code);
        // MariaDB refuses NULL / NOT NULL on a generated column, MySQL accepts it only after STORED.
        Assert.DoesNotMatch(NullabilityOnGeneratedColumn(), code);
        Assert.DoesNotMatch(MariaDbOnlyGenerated(), code);
        Assert.DoesNotContain("CALL ", code, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("BEGIN", code, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Logical_shard_script_adds_each_column_and_index_only_when_missing()
    {
        var code = Code(Script("005_logical_shards.sql"));
        foreach (var table in ShardedTables)
        {
            var key = table == "driver_earnings" ? "driver_id" : "id";
            Assert.Contains($"table_name = '{table}' AND column_name = 'logical_shard'", code, StringComparison.Ordinal);
            Assert.Contains($"table_name = '{table}' AND index_name = 'ix_{table}_logical_shard'", code, StringComparison.Ordinal);
            Assert.Contains($"'ADD COLUMN logical_shard SMALLINT UNSIGNED AS ({key} & 255) STORED'", code, StringComparison.Ordinal);
            Assert.Contains($"'ADD INDEX ix_{table}_logical_shard (logical_shard, {key})'", code, StringComparison.Ordinal);
        }

        // Every ALTER TABLE is text handed to PREPARE, never a statement of its own.
        Assert.Equal(ShardedTables.Length, AlterTable().Count(code));
        Assert.All(AlterTable().Matches(code), m => Assert.Equal('\'', code[m.Index - 1]));
        Assert.Equal(ShardedTables.Length, PrepareExecute().Count(code));
    }

    [Fact]
    public void The_redundant_seed_index_on_transaction_id_is_not_created()
    {
        var all = string.Concat(RideBookingSchema.Scripts.Select(s => s.Value));
        Assert.Contains("idx_payment_txn", all, StringComparison.Ordinal);
        Assert.DoesNotMatch(RedundantIndex(), all);
    }

    [GeneratedRegex(@"CREATE\s+\w+(\s+\w+){0,4}", RegexOptions.IgnoreCase)]
    private static partial Regex CreateStatement();

    [GeneratedRegex(@"\b(PROCEDURE|TRIGGER|FUNCTION|DELIMITER|EVENT)\b", RegexOptions.IgnoreCase)]
    private static partial Regex NonPortable();

    [GeneratedRegex(@"\b(FLOAT|DOUBLE)\b", RegexOptions.IgnoreCase)]
    private static partial Regex FloatMoney();

    [GeneratedRegex(@"\b(ADD|DROP|MODIFY|CHANGE|ALTER|RENAME)\s+(COLUMN\s+|INDEX\s+|KEY\s+|CONSTRAINT\s+|PARTITION\s+|FOREIGN\s+KEY\s+|UNIQUE\s+(INDEX\s+|KEY\s+)?)?IF\s+(NOT\s+)?EXISTS\b|\bCREATE\s+(UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?INDEX\s+IF\b|\bALTER\s+TABLE\s+IF\b|\bCREATE\s+OR\s+REPLACE\b", RegexOptions.IgnoreCase)]
    private static partial Regex MariaDbOnlyIfExists();

    [GeneratedRegex(@"\b(STORED|VIRTUAL)\s+(NOT\s+)?NULL\b", RegexOptions.IgnoreCase)]
    private static partial Regex NullabilityOnGeneratedColumn();

    [GeneratedRegex(@"\bPERSISTENT\b", RegexOptions.IgnoreCase)]
    private static partial Regex MariaDbOnlyGenerated();

    [GeneratedRegex(@"ALTER\s+TABLE\b", RegexOptions.IgnoreCase)]
    private static partial Regex AlterTable();

    [GeneratedRegex(@"PREPARE\s+(\w+)\s+FROM\s+@\w+;\s*EXECUTE\s+\1;\s*DEALLOCATE\s+PREPARE\s+\1;", RegexOptions.IgnoreCase)]
    private static partial Regex PrepareExecute();

    [GeneratedRegex(@"(KEY|INDEX)\s+idx_payment_txn", RegexOptions.IgnoreCase)]
    private static partial Regex RedundantIndex();
}
