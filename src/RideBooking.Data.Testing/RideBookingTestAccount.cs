namespace RideBooking.Data.Testing;

/// <summary>
/// The accounts of a test database, provisioned from the repository's <c>schema/grants</c> scripts (random passwords,
/// dropped with the database).
/// </summary>
public enum RideBookingTestAccount
{
    /// <summary>
    /// The application account of <c>02_application_user.sql</c>: only the statements the library sends on its own
    /// tables. What the library and most tests connect as.
    /// </summary>
    Application,

    /// <summary>
    /// An application account that also has <c>03_resharding.sql</c>, for a process that moves logical shards
    /// (<see cref="IShardMover"/>).
    /// </summary>
    Resharding,

    /// <summary>The migration account of <c>01_migration_user.sql</c>, which applied the schema.</summary>
    Migration,

    /// <summary>The server's administrator, for what no account of the library may do (DDL on test tables, KILL, replication).</summary>
    Administrator,
}
