using System.Data.Common;
using MySqlConnector;

namespace RideBooking.Data.Benchmarks;

/// <summary>Plain MySqlConnector readers: the baseline every library query is measured against.</summary>
public static class HandWritten
{
    public static RideStatus ParseRideStatus(string value) => value switch
    {
        "REQUESTED" => RideStatus.Requested,
        "ACCEPTED" => RideStatus.Accepted,
        "COMPLETED" => RideStatus.Completed,
        _ => RideStatus.Cancelled,
    };

    public static PaymentStatus ParsePaymentStatus(string value) => value switch
    {
        "PENDING" => PaymentStatus.Pending,
        "SUCCEEDED" => PaymentStatus.Succeeded,
        _ => PaymentStatus.Failed,
    };

    public static Ride ReadRide(DbDataReader reader) => new(
        reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), ParseRideStatus(reader.GetString(3)),
        reader.GetDecimal(4), reader.GetDateTime(5), reader.GetDateTime(6));

    public static async Task<List<Ride>> RidesAsync(string connectionString, string sql, string name, long value, string? name2 = null, long value2 = 0)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        command.Parameters.AddWithValue(name, value);
        if (name2 is not null)
        {
            command.Parameters.AddWithValue(name2, value2);
        }

        await using var reader = await command.ExecuteReaderAsync();
        var rides = new List<Ride>();
        while (await reader.ReadAsync())
        {
            rides.Add(ReadRide(reader));
        }

        return rides;
    }

    public static async Task<List<RankedDriver>> RankedAsync(string connectionString, string sql, int top)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        command.Parameters.AddWithValue("@Top", top);
        command.Parameters.AddWithValue("@Skip", top - 1);
        // (The brief's query reads @Top; the rollup query reads @Skip.)
        await using var reader = await command.ExecuteReaderAsync();
        var ranked = new List<RankedDriver>();
        while (await reader.ReadAsync())
        {
            ranked.Add(new RankedDriver(reader.GetInt64(0), reader.GetDecimal(1), reader.GetInt64(2)));
        }

        return ranked;
    }

    public static async Task<List<DriverEarnings>> EarningsAsync(string connectionString, string sql)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var earnings = new List<DriverEarnings>();
        while (await reader.ReadAsync())
        {
            earnings.Add(new DriverEarnings(reader.GetInt64(0), reader.GetDecimal(1)));
        }

        return earnings;
    }
}

/// <summary>The SQL of the product brief, as a user would write it without this library.</summary>
public static class BriefSql
{
    public const string TopDrivers = """
        SELECT DriverId, Earnings, `Rank` FROM (
          SELECT driver_id AS DriverId, SUM(fare) AS Earnings, CAST(RANK() OVER (ORDER BY SUM(fare) DESC) AS SIGNED) AS `Rank`
          FROM rides WHERE status = 'COMPLETED' GROUP BY driver_id) ranked
        WHERE `Rank` <= @Top ORDER BY `Rank`, DriverId
        """;

    public const string Earnings = """
        SELECT driver_id, SUM(fare) FROM rides WHERE status = 'COMPLETED' GROUP BY driver_id ORDER BY driver_id
        """;
}
