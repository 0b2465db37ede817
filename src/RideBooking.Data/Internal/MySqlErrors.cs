using MySqlConnector;

namespace RideBooking.Data.Internal;

internal static class MySqlErrors
{
    /// <summary>True when <paramref name="ex"/> is a duplicate-key error on the named unique index.</summary>
    /// <remarks>MySQL and MariaDB both name the violated key in the message ("... for key 'rides.uq_rides_active_user'").</remarks>
    public static bool IsDuplicateKey(this MySqlException ex, string indexName) =>
        ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry && ex.Message.Contains(indexName, StringComparison.Ordinal);
}
