using MySqlConnector;
using RideBooking.Data.Testing.Internal;

namespace RideBooking.Data.Testing;

/// <summary>
/// A fresh, uniquely named database with the RideBooking.Data schema applied, dropped on dispose, with accounts
/// provisioned from the repository's <c>schema/grants</c> scripts.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="ConnectionString"/> connects as the least-privileged application account of
/// <c>02_application_user.sql</c> (only the statements the library sends on its own tables): the schema is applied by
/// the migration account of <c>01_migration_user.sql</c>, and the administrator creates the database and the accounts
/// (random passwords) and drops them on dispose. <see cref="ConnectionStringFor"/> gives the other accounts.
/// </para>
/// <para>
/// The server is found once per process, in this order: the <c>RIDEBOOKING_MYSQL</c> environment
/// variable (a server connection string whose user may create databases); a <c>mysql:8.4</c>
/// container when a Docker engine answers; a local <c>mariadbd</c>/<c>mysqld</c> binary, started in a
/// temporary folder on a free port of 127.0.0.1 and removed when the process exits. When none is
/// available, <see cref="CreateAsync"/> throws an <see cref="InvalidOperationException"/> that says
/// how to provide one. A server given through <c>RIDEBOOKING_MYSQL</c> needs a user that may also create accounts and
/// grant privileges (CREATE USER, GRANT OPTION).
/// </para>
/// </remarks>
public sealed class RideBookingTestDatabase : IAsyncDisposable
{
    private readonly string _serverConnectionString;
    private readonly TestAccountSet _accounts;

    private RideBookingTestDatabase(string serverConnectionString, TestServerSource source, string serverDescription, string databaseName, TestAccountSet accounts)
    {
        _serverConnectionString = serverConnectionString;
        _accounts = accounts;
        Source = source;
        ServerDescription = serverDescription;
        DatabaseName = databaseName;
        ConnectionString = accounts.Application;
    }

    /// <summary>Gets the connection string of this database, as the application account (<see cref="RideBookingTestAccount.Application"/>).</summary>
    public string ConnectionString { get; }

    /// <summary>Gets the name of this database (unique per call).</summary>
    public string DatabaseName { get; }

    /// <summary>Gets where the server came from.</summary>
    public TestServerSource Source { get; }

    /// <summary>Gets a short description of the server, without credentials (for example "MariaDB 10.11.6 on 127.0.0.1:40123").</summary>
    public string ServerDescription { get; }

    /// <summary>Creates a database with the schema applied on the test server, starting the server first if needed.</summary>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The database; dispose it to drop it.</returns>
    /// <exception cref="InvalidOperationException">No server could be found or started; the message says how to provide one.</exception>
    public static async Task<RideBookingTestDatabase> CreateAsync(CancellationToken ct = default)
    {
        var server = await TestServerLocator.Shared.GetAsync(ct).ConfigureAwait(false);
        return await CreateOnAsync(server.ConnectionString, server.Source, server.Description, ct).ConfigureAwait(false);
    }

    /// <summary>Gets the connection string of this database for one of its accounts.</summary>
    /// <param name="account">The account.</param>
    /// <returns>A connection string naming this database, with the account's user and password.</returns>
    public string ConnectionStringFor(RideBookingTestAccount account) => _accounts.For(account);

    /// <summary>Creates a database, its accounts and its schema on the server of <paramref name="serverConnectionString"/>.</summary>
    internal static async Task<RideBookingTestDatabase> CreateOnAsync(string serverConnectionString, TestServerSource source, string description, CancellationToken ct)
    {
        var name = Sql.NewDatabaseName();
        var credentials = TestCredentials.New();
        try
        {
            var accounts = await TestAccounts.CreateDatabaseAsync(serverConnectionString, name, credentials, ct).ConfigureAwait(false);
            return new RideBookingTestDatabase(serverConnectionString, source, description, name, accounts);
        }
        catch
        {
            await Sql.DropDatabaseAsync(serverConnectionString, name, CancellationToken.None).ConfigureAwait(false);
            await TestAccounts.DropAccountsAsync(serverConnectionString, credentials.Names, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Drops the database and its accounts.</summary>
    /// <returns>A task that completes when the database is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        foreach (var account in Enum.GetValues<RideBookingTestAccount>())
        {
            MySqlConnection.ClearPool(new MySqlConnection(ConnectionStringFor(account)));
        }

        await Sql.DropDatabaseAsync(_serverConnectionString, DatabaseName, CancellationToken.None).ConfigureAwait(false);
        await TestAccounts.DropAccountsAsync(_serverConnectionString, _accounts.AccountNames, CancellationToken.None).ConfigureAwait(false);
    }
}
