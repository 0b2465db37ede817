using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>
/// The few ways the library runs a command: parameters by name, rows mapped by column position.
/// Each helper consumes (disposes) the command it is given. Mapping by hand keeps every call within a
/// few bytes of hand-written MySqlConnector code (see the benchmarks).
/// </summary>
internal static class DbCommands
{
    public static MySqlCommand With(this MySqlCommand command, string name, object? value)
    {
        command.Parameters.AddWithValue(name, value);
        return command;
    }

    public static async Task<List<T>> ReadListAsync<T>(this MySqlCommand command, Func<MySqlDataReader, T> map, CancellationToken ct)
    {
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var rows = new List<T>();
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    rows.Add(map(reader));
                }

                return rows;
            }
        }
    }

    /// <summary>Every row of the reader's current result set.</summary>
    public static async Task<List<T>> ReadListAsync<T>(this MySqlDataReader reader, Func<MySqlDataReader, T> map, CancellationToken ct)
    {
        var rows = new List<T>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>The first row of the reader's current result set, or <see langword="null"/>.</summary>
    public static async Task<T?> ReadSingleOrDefaultAsync<T>(this MySqlDataReader reader, Func<MySqlDataReader, T> map, CancellationToken ct)
        where T : class =>
        await reader.ReadAsync(ct).ConfigureAwait(false) ? map(reader) : null;

    public static async Task<T?> ReadSingleOrDefaultAsync<T>(this MySqlCommand command, Func<MySqlDataReader, T> map, CancellationToken ct)
        where T : class
    {
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await reader.ReadAsync(ct).ConfigureAwait(false) ? map(reader) : null;
            }
        }
    }

    /// <summary>The first column of the first row, as a 64-bit integer (counts, EXISTS, ROW_COUNT()).</summary>
    public static async Task<long> ReadInt64Async(this MySqlCommand command, CancellationToken ct)
    {
        await using (command.ConfigureAwait(false))
        {
            return Convert.ToInt64(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    public static async Task<int> ExecuteAsync(this MySqlCommand command, CancellationToken ct)
    {
        await using (command.ConfigureAwait(false))
        {
            return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
    }
}

/// <summary>Row mappers, by column position, for the column lists the repositories select.</summary>
internal static class Rows
{
    /// <summary>id, name, phone, created_at.</summary>
    public static User User(MySqlDataReader r) => new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetDateTime(3));

    /// <summary>id, name, vehicle_number, available, created_at.</summary>
    public static Driver Driver(MySqlDataReader r) => new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetBoolean(3), r.GetDateTime(4));

    /// <summary>id, user_id, driver_id, status, fare, created_at, updated_at.</summary>
    public static Ride Ride(MySqlDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), RideStatusOf(r.GetString(3)), r.GetDecimal(4), r.GetDateTime(5), r.GetDateTime(6));

    /// <summary>id, ride_id, transaction_id, amount, status, created_at.</summary>
    public static Payment Payment(MySqlDataReader r) =>
        new(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetDecimal(3), PaymentStatusOf(r.GetString(4)), r.GetDateTime(5));

    /// <summary>driver_id, earnings, rank.</summary>
    public static RankedDriver RankedDriver(MySqlDataReader r) => new(r.GetInt64(0), r.GetDecimal(1), r.GetInt64(2));

    /// <summary>driver_id, total_earnings.</summary>
    public static DriverEarnings DriverEarnings(MySqlDataReader r) => new(r.GetInt64(0), r.GetDecimal(1));

    /// <summary>Requested or accepted: the states of the one-active-ride rule.</summary>
    public static bool IsActive(this Ride ride) => ride.Status is RideStatus.Requested or RideStatus.Accepted;

    public static RideStatus RideStatusOf(string value) => value switch
    {
        "REQUESTED" => RideStatus.Requested,
        "ACCEPTED" => RideStatus.Accepted,
        "COMPLETED" => RideStatus.Completed,
        "CANCELLED" => RideStatus.Cancelled,
        _ => throw new InvalidOperationException($"Unknown ride status '{value}' in the database."),
    };

    public static PaymentStatus PaymentStatusOf(string value) => value switch
    {
        "PENDING" => PaymentStatus.Pending,
        "SUCCEEDED" => PaymentStatus.Succeeded,
        "FAILED" => PaymentStatus.Failed,
        _ => throw new InvalidOperationException($"Unknown payment status '{value}' in the database."),
    };
}
