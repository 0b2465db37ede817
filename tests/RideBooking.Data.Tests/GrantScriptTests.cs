using System.Text.RegularExpressions;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Tests;

/// <summary>
/// The account scripts of schema/grants follow the schema: a table added by a new schema script fails here until it has
/// its grants (the integration tests, which run as the application account, then fail too).
/// </summary>
public sealed partial class GrantScriptTests
{
    private static string Grants(string name)
    {
        using var stream = typeof(GrantScriptTests).Assembly.GetManifestResourceStream("Grants." + name);
        Assert.NotNull(stream);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The script without its <c>--</c> comment lines: what the server runs.</summary>
    private static string Code(string sql) => string.Join('\n', sql.Split('\n').Where(line => !line.TrimStart().StartsWith("--", StringComparison.Ordinal)));

    private static string Comments(string sql) => string.Join('\n', sql.Split('\n').Where(line => line.TrimStart().StartsWith("--", StringComparison.Ordinal)));

    private static List<string> SchemaTables() =>
        [.. RideBookingSchema.Scripts.SelectMany(s => CreatedTable().Matches(s.Value).Select(m => m.Groups[1].Value)).Order(StringComparer.Ordinal)];

    private static List<(string Privileges, string Table)> TableGrants(string script) =>
        [.. TableGrant().Matches(Code(script)).Select(m => (m.Groups[1].Value, m.Groups[2].Value))];

    [Fact]
    public void Every_table_of_the_schema_has_exactly_one_grant_for_the_application_account()
    {
        var grants = TableGrants(Grants("02_application_user.sql"));
        var tables = SchemaTables();

        Assert.True(tables.Count >= 13, $"only {tables.Count} tables found in the schema scripts");
        Assert.Equal(tables, grants.Select(g => g.Table).Order(StringComparer.Ordinal));
        Assert.All(grants, g => Assert.Matches("^(SELECT|INSERT|UPDATE|DELETE)(, (SELECT|INSERT|UPDATE|DELETE))*$", g.Privileges));
    }

    [Fact]
    public void The_application_account_gets_dml_on_named_tables_only()
    {
        var code = Code(Grants("02_application_user.sql"));

        // No database-wide grant (which would cover tables the library never touches), no DDL, no account management:
        // every GRANT is a table grant of DML (checked above), or one of the two spellings of replica monitoring.
        Assert.DoesNotContain("`${rb_database}`.*", code, StringComparison.Ordinal);
        Assert.Equal(TableGrants(Grants("02_application_user.sql")).Count + 2, Regex.Count(code, @"\bGRANT\b"));
        Assert.DoesNotContain("GRANT OPTION", code, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("ALL PRIVILEGES", code, StringComparison.OrdinalIgnoreCase);
        // Read-only tables for the application: the catalog is written by IShardMover, the history by migrations.
        var grants = TableGrants(Grants("02_application_user.sql")).ToDictionary(g => g.Table, g => g.Privileges);
        Assert.Equal("SELECT", grants["shard_placements"]);
        Assert.Equal("SELECT", grants["schema_history"]);
        // The only global privilege: the lag watch's replica monitoring, chosen by the server that runs the script.
        Assert.Equal(1, code.Split("*.*").Length - 1);
        Assert.Contains("'GRANT SLAVE MONITOR', 'GRANT REPLICATION CLIENT'", code, StringComparison.Ordinal);
    }

    [Fact]
    public void The_resharding_grants_cover_every_table_the_mover_copies_and_the_catalog()
    {
        var grants = TableGrants(Grants("03_resharding.sql")).ToDictionary(g => g.Table, g => g.Privileges);

        Assert.Equal(ShardMover.Tables.Select(t => t.Name).Append("shard_placements").Order(StringComparer.Ordinal), grants.Keys.Order(StringComparer.Ordinal));
        Assert.All(ShardMover.Tables, t => Assert.Equal("SELECT, INSERT, UPDATE, DELETE", grants[t.Name]));
        Assert.Equal(grants.Count, Regex.Count(Code(Grants("03_resharding.sql")), @"\bGRANT\b"));
    }

    [Fact]
    public void The_migration_account_gets_ddl_on_its_database_only()
    {
        var code = Code(Grants("01_migration_user.sql"));

        Assert.Contains("ON `${rb_database}`.* TO '${rb_migration_user}'@'${rb_migration_host}'", code, StringComparison.Ordinal);
        Assert.DoesNotContain("*.*", code, StringComparison.Ordinal);
        Assert.DoesNotContain("DROP", code, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("GRANT OPTION", code, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("01_migration_user.sql")]
    [InlineData("02_application_user.sql")]
    [InlineData("03_resharding.sql")]
    public void No_password_and_every_placeholder_documented_at_the_top(string name)
    {
        var script = Grants(name);
        var code = Code(script);

        Assert.DoesNotContain("IDENTIFIED", code, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("PASSWORD", code, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("CREATE USER", code, StringComparison.OrdinalIgnoreCase);
        var used = Placeholder().Matches(code).Select(m => m.Value).Distinct().ToList();
        Assert.NotEmpty(used);
        var header = Comments(string.Join('\n', script.Split('\n').TakeWhile(line => line.TrimStart().StartsWith("--", StringComparison.Ordinal))));
        Assert.All(used, placeholder => Assert.Contains(placeholder, header, StringComparison.Ordinal));
    }

    [GeneratedRegex(@"CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+`?(\w+)`?", RegexOptions.IgnoreCase)]
    private static partial Regex CreatedTable();

    [GeneratedRegex(@"GRANT\s+([A-Z, ]+?)\s+ON\s+`\$\{rb_database\}`\.`(\w+)`\s+TO\s+'\$\{rb_app_user\}'@'\$\{rb_app_host\}';")]
    private static partial Regex TableGrant();

    [GeneratedRegex(@"\$\{[a-z_]+\}")]
    private static partial Regex Placeholder();
}
