using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Benchmarks;

/// <summary>A seeded data set: a database named after its size, reused across runs when already there.</summary>
public sealed record DataSize(string Name, long Rides)
{
    public long Users => Math.Max(100, Rides / 8);

    public int Drivers => (int)Math.Clamp(Rides / 300, 50, 5000);

    public string Database => $"rb_bench_{Name}";

    public override string ToString() => Name;
}

/// <summary>Where the benchmarks' server is and which data sets they use, shared with BenchmarkDotNet's child processes through environment variables.</summary>
public static class BenchmarkData
{
    public const string SizesVariable = "RIDEBOOKING_BENCH_SIZES";

    public const long FirstId = 1_000_000_000;

    public static readonly DateTime SeedEnd = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

    public static readonly DataSize[] KnownSizes = [new("tiny", 1_000), new("10k", 10_000), new("1m", 1_000_000), new("10m", 10_000_000)];

    /// <summary>The sizes of this run, as names (for [ParamsSource]).</summary>
    public static IEnumerable<string> SizeNames() =>
        (Environment.GetEnvironmentVariable(SizesVariable) ?? "10k,1m").Split(',', StringSplitOptions.RemoveEmptyEntries);

    public static DataSize Size(string name) => KnownSizes.Single(s => s.Name == name);

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("RIDEBOOKING_MYSQL")
        ?? throw new InvalidOperationException("RIDEBOOKING_MYSQL is not set; run the suite through its Program, which provides a server.");

    /// <summary>The connection string the library and the hand-written baselines both use, so that they are compared on equal terms.</summary>
    public static string ConnectionString(string database) => new MySqlConnectionStringBuilder(ServerConnectionString)
    {
        Database = database,
        AllowUserVariables = true,
        DateTimeKind = MySqlDateTimeKind.Utc,
        ConnectionReset = false,
        MaximumPoolSize = 100,
    }.ConnectionString;

    public static ServiceProvider Library(string database) =>
        new ServiceCollection().AddRideBookingData(o => o.ConnectionString = ConnectionString(database)).BuildServiceProvider();

    /// <summary>Creates and fills the database of <paramref name="size"/> unless a complete copy is already there.</summary>
    public static async Task EnsureSeededAsync(DataSize size, TextWriter progress)
    {
        await using (var server = new MySqlConnection(ServerConnectionString))
        {
            await server.OpenAsync();
            await server.ExecuteAsync($"CREATE DATABASE IF NOT EXISTS `{size.Database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
        }

        var connectionString = ConnectionString(size.Database);
        await RideBookingSchema.ApplyAsync(connectionString);
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync("CREATE TABLE IF NOT EXISTS bench_meta (size VARCHAR(20) NOT NULL PRIMARY KEY, rides BIGINT NOT NULL, seeded_at DATETIME(6) NOT NULL)");
        if (await connection.ExecuteScalarAsync<long?>("SELECT rides FROM bench_meta WHERE size = @Name", new { size.Name }) == size.Rides)
        {
            progress.WriteLine($"data set {size.Name}: already seeded ({size.Rides:N0} rides), reused");
            return;
        }

        await connection.ExecuteAsync("DELETE FROM bench_meta; DELETE FROM payments; DELETE FROM rides; DELETE FROM driver_earnings; DELETE FROM drivers; DELETE FROM users");
        var total = Stopwatch.StartNew();
        await InsertAsync(connectionString, "users", "id, name, phone, created_at", size.Users, progress, (i, values) =>
        {
            values.Add(FirstId + i);
            values.Add("User " + i.ToString(CultureInfo.InvariantCulture));
            values.Add("+1" + (5_550_000_000 + i).ToString(CultureInfo.InvariantCulture));
            values.Add(SeedEnd.AddDays(-400));
        });
        await InsertAsync(connectionString, "drivers", "id, name, vehicle_number, available, created_at", size.Drivers, progress, (i, values) =>
        {
            values.Add(FirstId + i);
            values.Add("Driver " + i.ToString(CultureInfo.InvariantCulture));
            values.Add("KA-" + i.ToString("D6", CultureInfo.InvariantCulture));
            values.Add(true);
            values.Add(SeedEnd.AddDays(-400));
        });

        // Months of history with a realistic skew: a few users and drivers account for many rides.
        var span = TimeSpan.FromDays(180).Ticks;
        await InsertAsync(connectionString, "rides", "id, user_id, driver_id, status, fare, created_at, updated_at", size.Rides, progress, (i, values) =>
        {
            var random = new Random((int)(i * 7919 % int.MaxValue));
            var user = (long)(size.Users * Math.Pow(random.NextDouble(), 2));
            var driver = (long)(size.Drivers * Math.Pow(random.NextDouble(), 1.5));
            var createdAt = SeedEnd.AddTicks(-(long)(random.NextDouble() * span));
            createdAt = createdAt.AddTicks(-(createdAt.Ticks % 10));
            values.Add(FirstId + i);
            values.Add(FirstId + user);
            values.Add(FirstId + driver);
            values.Add(random.Next(100) < 85 ? "COMPLETED" : "CANCELLED");
            values.Add(random.Next(5_000, 200_000) / 100m);
            values.Add(createdAt);
            values.Add(createdAt.AddMinutes(30));
        });

        var rollup = Stopwatch.StartNew();
        await using (var library = Library(size.Database))
        {
            var result = await library.GetRequiredService<IDriverEarningsBackfill>().RebuildAsync(1000);
            progress.WriteLine($"data set {size.Name}: earnings rollup rebuilt for {result.DriversWithEarnings:N0} drivers in {result.Batches} batches, {rollup.Elapsed.TotalSeconds:F1} s");
        }

        await connection.ExecuteAsync("ANALYZE TABLE users, drivers, rides, driver_earnings");
        await connection.ExecuteAsync("INSERT INTO bench_meta (size, rides, seeded_at) VALUES (@Name, @Rides, UTC_TIMESTAMP(6))", new { size.Name, size.Rides });
        progress.WriteLine($"data set {size.Name}: seeded in {total.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>
    /// Multi-row parameterized INSERTs of 500 rows, on two connections at once, with a progress line
    /// (rows and rows/s) about once a second.
    /// </summary>
    internal static async Task InsertAsync(string connectionString, string table, string columns, long count, TextWriter progress, Action<long, List<object>> row)
    {
        const int RowsPerStatement = 500;
        var width = columns.Split(',').Length;
        var sql = BuildInsert(table, columns, width, RowsPerStatement);
        long next = 0, done = 0;
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        var gate = new object();

        async Task WorkerAsync()
        {
            await using var connection = new MySqlConnection(connectionString);
            await connection.OpenAsync();
            var values = new List<object>(RowsPerStatement * width);
            while (true)
            {
                var start = Interlocked.Add(ref next, RowsPerStatement) - RowsPerStatement;
                if (start >= count)
                {
                    return;
                }

                var rows = (int)Math.Min(RowsPerStatement, count - start);
                values.Clear();
                for (var i = 0; i < rows; i++)
                {
                    row(start + i, values);
                }

                await using var command = new MySqlCommand(rows == RowsPerStatement ? sql : BuildInsert(table, columns, width, rows), connection);
                for (var p = 0; p < values.Count; p++)
                {
                    command.Parameters.AddWithValue("@p" + p.ToString(CultureInfo.InvariantCulture), values[p]);
                }

                await command.ExecuteNonQueryAsync();
                var total = Interlocked.Add(ref done, rows);
                lock (gate)
                {
                    if (clock.Elapsed - lastReport >= TimeSpan.FromSeconds(1) || total == count)
                    {
                        lastReport = clock.Elapsed;
                        progress.WriteLine($"  {table}: {total,12:N0} / {count:N0} ({100.0 * total / count,5:F1}%)  {total / Math.Max(clock.Elapsed.TotalSeconds, 0.001),10:N0} rows/s");
                    }
                }
            }
        }

        await Task.WhenAll(WorkerAsync(), WorkerAsync());
    }

    private static string BuildInsert(string table, string columns, int width, int rows)
    {
        var sql = new StringBuilder($"INSERT INTO {table} ({columns}) VALUES ");
        for (var r = 0; r < rows; r++)
        {
            sql.Append(r == 0 ? "(" : ",(");
            for (var c = 0; c < width; c++)
            {
                sql.Append(c == 0 ? "@p" : ",@p").Append((r * width) + c);
            }

            sql.Append(')');
        }

        return sql.ToString();
    }
}
