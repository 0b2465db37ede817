using MySqlConnector;

namespace RideBooking.Data.Internal;

internal static class MySqlErrors
{
    /// <summary>True when <paramref name="ex"/> is a duplicate-key error on the named unique index.</summary>
    /// <remarks>MySQL and MariaDB both name the violated key in the message ("... for key 'rides.uq_rides_active_user'").</remarks>
    /// The key name ends the message, so a duplicated value that happens to contain an index name is not mistaken for it.
    public static bool IsDuplicateKey(this MySqlException ex, string indexName) =>
        ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry
        && (ex.Message.EndsWith($"key '{indexName}'", StringComparison.Ordinal) || ex.Message.EndsWith($".{indexName}'", StringComparison.Ordinal));

    /// <summary>True when a generated id was already taken (another process generated the same id): retry with a new one.</summary>
    public static bool IsIdCollision(this MySqlException ex) => ex.IsDuplicateKey("PRIMARY");
}
