using System.Net.Sockets;
using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>
/// Turns the driver's errors (<see cref="MySqlException"/>, and the <see cref="SocketException"/>, <see cref="IOException"/>
/// and <see cref="TimeoutException"/> of a failed connection) into the <see cref="RideBookingInfrastructureException"/>
/// family, so that no raw driver exception reaches a caller. Messages name the operation and the error number, never
/// the driver's message (which can name the server's address and user).
/// </summary>
internal static class InfrastructureErrors
{
    /// <summary>True for an error raised by the driver or the network rather than by the library or the caller.</summary>
    public static bool IsDriverFailure(Exception ex) => ex is MySqlException or SocketException or IOException or TimeoutException;

    /// <summary>The error number of a driver error; <see langword="null"/> for a socket or I/O error.</summary>
    public static int? ErrorNumber(Exception ex) => ex is MySqlException mySql ? (int)mySql.ErrorCode : null;

    /// <summary>Whether trying again later can succeed: lock conflicts, a lost or refused connection, a timeout.</summary>
    public static bool IsTransient(Exception ex) => ex switch
    {
        MySqlException mySql => mySql.IsTransient || TransactionRunner.IsRetryable(mySql) || TransactionRunner.IsConnectionFailure(mySql),
        _ => true,
    };

    /// <summary>The error's kind and number, never its message.</summary>
    public static string Describe(Exception ex) => ex is MySqlException mySql ? $"MySQL error {(int)mySql.ErrorCode}" : ex.GetType().Name;

    /// <summary>MySqlConnector's connect timeout while every connection of the pool was in use.</summary>
    public static bool IsPoolExhausted(Exception ex) =>
        ex is MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost } mySql && mySql.Message.Contains("pooled connections are in use", StringComparison.Ordinal);

    /// <summary>A typed error for a driver failure of <paramref name="operation"/>.</summary>
    public static RideBookingInfrastructureException Translate(string operation, Exception ex)
    {
        if (IsPoolExhausted(ex))
        {
            return new ConnectionPoolTimeoutException($"RideBooking.Data {operation}: no connection became free within the connect timeout (every pooled connection is in use); nothing of the operation was stored ({Describe(ex)}).", ex)
            {
                Operation = operation,
                IsTransient = true,
                ErrorNumber = ErrorNumber(ex),
            };
        }

        var what = ex switch
        {
            MySqlException mySql when TransactionRunner.IsNodeNotReady(mySql) => "the cluster node kept refusing statements while not ready (rejoining, or outside the primary component) and the retries are spent; nothing of it was stored",
            MySqlException mySql when TransactionRunner.IsRetryable(mySql) => "the transaction kept meeting lock conflicts and its retries are spent; nothing of it was stored",
            MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost } => "the server could not be reached",
            _ when TransactionRunner.IsConnectionFailure(ex) => "the connection to the server failed; nothing of the operation was stored",
            _ => "the server refused the operation",
        };
        return new RideBookingInfrastructureException($"RideBooking.Data {operation}: {what} ({Describe(ex)}).", ex)
        {
            Operation = operation,
            IsTransient = IsTransient(ex),
            ErrorNumber = ErrorNumber(ex),
        };
    }
}
