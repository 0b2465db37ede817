using System.Globalization;

namespace RideBooking.Data.Testing.Internal;

/// <summary>
/// The replication statements and server options of the two flavors: MariaDB (GTID with
/// MASTER_USE_GTID=slave_pos) and MySQL 8 (gtid_mode=ON with SOURCE_AUTO_POSITION=1).
/// </summary>
internal static class Replication
{
    /// <summary>The dedicated user replicas connect to their primary with; it may replicate and nothing else.</summary>
    public const string UserName = "rb_replication";

    /// <summary>Options of a primary: binary log in ROW format, a server id unique in the cluster.</summary>
    public static IReadOnlyList<string> PrimaryArguments(bool isMariaDb, int serverId) =>
    [
        $"--server-id={serverId.ToString(CultureInfo.InvariantCulture)}",
        "--log-bin=binlog",
        "--binlog-format=ROW",
        "--sync-binlog=0",
        .. isMariaDb ? [] : MySqlGtidArguments,
    ];

    /// <summary>Options of a replica: read-only, its own server id, no binary log of its own.</summary>
    public static IReadOnlyList<string> ReplicaArguments(bool isMariaDb, int serverId) =>
    [
        $"--server-id={serverId.ToString(CultureInfo.InvariantCulture)}",
        "--read-only=ON",
        "--relay-log=relay-bin",
        "--skip-log-bin",
        .. isMariaDb ? [] : MySqlGtidArguments,
    ];

    private static readonly string[] MySqlGtidArguments = ["--gtid-mode=ON", "--enforce-gtid-consistency=ON"];

    /// <summary>Creates the replication user on a primary. <paramref name="password"/> must be hex (it is inlined).</summary>
    public static IReadOnlyList<string> CreateUser(string password) =>
    [
        $"CREATE USER '{UserName}'@'127.0.0.1' IDENTIFIED BY '{password}'",
        $"GRANT REPLICATION SLAVE ON *.* TO '{UserName}'@'127.0.0.1'",
    ];

    /// <summary>Points a replica at its primary by GTID. <paramref name="password"/> must be hex (it is inlined).</summary>
    public static string ChangeSource(bool isMariaDb, int primaryPort, string password) => isMariaDb
        ? $"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primaryPort.ToString(CultureInfo.InvariantCulture)}, MASTER_USER='{UserName}', MASTER_PASSWORD='{password}', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1"
        // GET_SOURCE_PUBLIC_KEY: caching_sha2_password without TLS.
        : $"CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT={primaryPort.ToString(CultureInfo.InvariantCulture)}, SOURCE_USER='{UserName}', SOURCE_PASSWORD='{password}', SOURCE_AUTO_POSITION=1, SOURCE_CONNECT_RETRY=1, GET_SOURCE_PUBLIC_KEY=1";

    public static string Start(bool isMariaDb) => isMariaDb ? "START SLAVE" : "START REPLICA";

    public static string Stop(bool isMariaDb, bool sqlThreadOnly) =>
        (isMariaDb ? "STOP SLAVE" : "STOP REPLICA") + (sqlThreadOnly ? " SQL_THREAD" : string.Empty);

    /// <summary>Sets the delay; replication must be stopped.</summary>
    public static string SetDelay(bool isMariaDb, int seconds) => isMariaDb
        ? $"CHANGE MASTER TO MASTER_DELAY={seconds.ToString(CultureInfo.InvariantCulture)}"
        : $"CHANGE REPLICATION SOURCE TO SOURCE_DELAY={seconds.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Everything the primary has written, as a GTID position (MariaDB) or set (MySQL).</summary>
    public static string PrimaryPosition(bool isMariaDb) => isMariaDb ? "SELECT @@gtid_binlog_pos" : "SELECT @@gtid_executed";

    /// <summary>Waits on a replica until it has applied <c>@position</c>, at most <c>@timeout</c> seconds; 0 means it has.</summary>
    public static string WaitFor(bool isMariaDb) => isMariaDb
        ? "SELECT MASTER_GTID_WAIT(@position, @timeout)"
        : "SELECT WAIT_FOR_EXECUTED_GTID_SET(@position, @timeout)";
}
