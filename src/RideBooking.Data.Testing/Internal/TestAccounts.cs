using System.Security.Cryptography;
using System.Text.RegularExpressions;
using MySqlConnector;

namespace RideBooking.Data.Testing.Internal;

/// <summary>The connection strings of one test database, one per account, each naming the database.</summary>
/// <param name="Administrator">The server's administrator (the kit's own operations).</param>
/// <param name="Migration">The migration account of <c>schema/grants/01_migration_user.sql</c>.</param>
/// <param name="Application">The application account of <c>schema/grants/02_application_user.sql</c>.</param>
/// <param name="Resharding">An application account that also has <c>schema/grants/03_resharding.sql</c>.</param>
/// <param name="AccountNames">The accounts this kit created (dropped with the database).</param>
internal sealed record TestAccountSet(string Administrator, string Migration, string Application, string Resharding, IReadOnlyList<string> AccountNames)
{
    public string For(RideBookingTestAccount account) => account switch
    {
        RideBookingTestAccount.Application => Application,
        RideBookingTestAccount.Resharding => Resharding,
        RideBookingTestAccount.Migration => Migration,
        RideBookingTestAccount.Administrator => Administrator,
        _ => throw new ArgumentOutOfRangeException(nameof(account), account, "Unknown account."),
    };
}

/// <summary>The names and random passwords of a test database's accounts: migration, application, resharding.</summary>
internal sealed record TestCredentials(string[] Names, string[] Passwords)
{
    /// <summary>New accounts; names are server-wide, so each set gets a random suffix (MySQL allows 32 characters).</summary>
    public static TestCredentials New()
    {
        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        string[] names = [$"rb_mig_{suffix}", $"rb_app_{suffix}", $"rb_move_{suffix}"];
        return new TestCredentials(names, [.. names.Select(_ => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)))]);
    }

    /// <summary>The accounts' connection strings on the server of <paramref name="adminConnectionString"/>, naming <paramref name="database"/>.</summary>
    public TestAccountSet On(string adminConnectionString, string database)
    {
        string As(int i) => new MySqlConnectionStringBuilder(adminConnectionString) { UserID = Names[i], Password = Passwords[i], Database = database }.ConnectionString;
        return new TestAccountSet(Sql.WithDatabase(adminConnectionString, database), As(0), As(1), As(2), Names);
    }
}

/// <summary>
/// Creates a test database the way a DBA provisions one from the shipped scripts: the administrator creates the database
/// and the accounts (random passwords, never written anywhere), grants the migration account with
/// <c>01_migration_user.sql</c>, the migration account applies the schema, and the administrator grants the application
/// account with <c>02_application_user.sql</c> (and a resharding account with 02 and <c>03_resharding.sql</c>). The
/// scripts are the files of the repository's <c>schema/grants</c> folder, embedded as they are, so the tests run as the
/// accounts those files describe.
/// </summary>
internal static partial class TestAccounts
{
    public const string MigrationScript = "01_migration_user.sql";
    public const string ApplicationScript = "02_application_user.sql";
    public const string ReshardingScript = "03_resharding.sql";

    private const string ResourcePrefix = "RideBooking.Data.Testing.Grants.";

    /// <summary>Gets the grant scripts, by file name.</summary>
    public static IReadOnlyDictionary<string, string> Scripts { get; } = Load();

    /// <summary>Creates the database with the schema applied and its accounts on the server of <paramref name="adminConnectionString"/>.</summary>
    /// <param name="adminConnectionString">A connection string without a database whose user may create databases and accounts and grant.</param>
    /// <param name="database">The database to create.</param>
    /// <param name="credentials">The accounts' names and passwords.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The connection strings of the accounts.</returns>
    public static async Task<TestAccountSet> CreateDatabaseAsync(string adminConnectionString, string database, TestCredentials credentials, CancellationToken ct)
    {
        await Sql.CreateDatabaseAsync(adminConnectionString, database, ct).ConfigureAwait(false);
        var accounts = await CreateAccountsAsync(adminConnectionString, database, credentials, ct).ConfigureAwait(false);
        await RideBookingSchema.ApplyAsync(accounts.Migration, ct).ConfigureAwait(false);
        await GrantApplicationAsync(adminConnectionString, database, accounts, ct).ConfigureAwait(false);
        return accounts;
    }

    /// <summary>Creates the accounts (without grants on tables yet) and grants the migration account.</summary>
    public static async Task<TestAccountSet> CreateAccountsAsync(string adminConnectionString, string database, TestCredentials credentials, CancellationToken ct)
    {
        var statements = credentials.Names.Select((name, i) => $"CREATE USER '{name}'@'%' IDENTIFIED BY '{credentials.Passwords[i]}'").ToList();
        statements.Add(Substitute(Scripts[MigrationScript], database, migrationUser: credentials.Names[0]));
        try
        {
            await Sql.ExecuteAsync(WithUserVariables(adminConnectionString), statements, ct).ConfigureAwait(false);
        }
        catch (MySqlException ex) when (ex.ErrorCode is MySqlErrorCode.SpecifiedAccessDeniedError or MySqlErrorCode.DatabaseAccessDenied or MySqlErrorCode.AccessDenied or MySqlErrorCode.PasswordNoMatch)
        {
            // The message names the endpoint only: the connection string may hold a password.
            throw new InvalidOperationException(
                $"The test server's user on {Sql.Endpoint(adminConnectionString)} may not create the accounts of a test database ({ex.Message}). " +
                "The test kit provisions every database from schema/grants: give it a user with CREATE USER and GRANT OPTION (for example root) in RIDEBOOKING_MYSQL or RIDEBOOKING_TOPOLOGY.",
                ex);
        }

        return credentials.On(adminConnectionString, database);
    }

    /// <summary>Grants the application account (02) and the resharding account (02 and 03): after the schema, whose tables they name.</summary>
    public static Task GrantApplicationAsync(string adminConnectionString, string database, TestAccountSet accounts, CancellationToken ct)
    {
        var application = new MySqlConnectionStringBuilder(accounts.Application).UserID;
        var resharding = new MySqlConnectionStringBuilder(accounts.Resharding).UserID;
        return Sql.ExecuteAsync(
            WithUserVariables(adminConnectionString),
            [
                Substitute(Scripts[ApplicationScript], database, appUser: application),
                Substitute(Scripts[ApplicationScript], database, appUser: resharding),
                Substitute(Scripts[ReshardingScript], database, appUser: resharding),
            ],
            ct);
    }

    /// <summary>Drops the accounts; a missing one is not an error.</summary>
    public static Task DropAccountsAsync(string adminConnectionString, IEnumerable<string> names, CancellationToken ct) =>
        Sql.ExecuteAsync(adminConnectionString, [.. names.Select(name => $"DROP USER IF EXISTS '{name}'@'%'")], ct);

    /// <summary>Replaces the placeholders of a grant script; every placeholder of the script must be given.</summary>
    public static string Substitute(string script, string database, string? appUser = null, string? migrationUser = null)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["rb_database"] = database,
            ["rb_app_user"] = appUser,
            ["rb_app_host"] = "%",
            ["rb_migration_user"] = migrationUser,
            ["rb_migration_host"] = "%",
        };
        return Placeholder().Replace(script, match =>
        {
            // Placeholders in comments document themselves; only those in statements need a value.
            var name = match.Groups[1].Value;
            return values.TryGetValue(name, out var value) && value is not null
                ? value
                : IsInComment(script, match.Index) ? match.Value : throw new InvalidOperationException($"No value for the placeholder {match.Value}.");
        });
    }

    private static bool IsInComment(string script, int index)
    {
        var lineStart = script.LastIndexOf('\n', Math.Max(0, index - 1)) + 1;
        return script.AsSpan(lineStart, index - lineStart).TrimStart().StartsWith("--", StringComparison.Ordinal);
    }

    private static string WithUserVariables(string connectionString) =>
        new MySqlConnectionStringBuilder(connectionString) { AllowUserVariables = true }.ConnectionString;

    private static Dictionary<string, string> Load()
    {
        var assembly = typeof(TestAccounts).Assembly;
        var scripts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            scripts[name[ResourcePrefix.Length..]] = reader.ReadToEnd();
        }

        return scripts;
    }

    [GeneratedRegex(@"\$\{([a-z_]+)\}")]
    private static partial Regex Placeholder();
}
