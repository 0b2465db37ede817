using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// Counts the round trips of one operation: the commands, commits and rollbacks that MySqlConnector
/// reports on its "MySqlConnector" activity source. Taking a pooled connection ("Open") is not a
/// round trip for the library: its pool does not reset connections on checkout.
/// </summary>
public sealed class RoundTripTests(DatabaseFixture db, ITestOutputHelper output) : IClassFixture<DatabaseFixture>
{
    private const string ProbeName = "RideBooking.Data.IntegrationTests.RoundTrips";

    private static readonly ActivitySource Probe = new(ProbeName);

    internal static async Task<List<Activity>> RecordAsync(Func<Task> operation)
    {
        var seen = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "MySqlConnector" or ProbeName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = seen.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using var parent = Probe.StartActivity("operation") ?? throw new InvalidOperationException("The probe activity was not sampled.");
        var traceId = parent.TraceId;
        await operation();
        // Only commands of this test's operation: other test classes run in parallel.
        return [.. seen.Where(a => a.Source.Name == "MySqlConnector" && a.TraceId == traceId && !a.DisplayName.StartsWith("Open", StringComparison.Ordinal))];
    }

    [Fact]
    public async Task BookAsync_takes_two_round_trips_where_the_brief_takes_five()
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        // Warm the pool so that opening a connection is not counted as a first-time handshake.
        await db.Booking.CancelAsync((await db.Booking.BookAsync(user.Id, driver.Id, 1m)).Id);

        var library = await RecordAsync(() => db.Booking.BookAsync(user.Id, driver.Id, 10m));
        foreach (var a in library)
        {
            output.WriteLine($"library: {a.DisplayName}");
        }

        var other = await db.NewUserAsync();
        var otherDriver = await db.NewDriverAsync();
        var brief = await RecordAsync(() => BriefBookingFlowAsync(other.Id, otherDriver.Id, 10m));
        foreach (var a in brief)
        {
            output.WriteLine($"brief: {a.DisplayName}");
        }

        Assert.Equal(5, brief.Count);
        Assert.Equal(2, library.Count);
        Assert.False((await db.Drivers.GetAsync(driver.Id))!.Available);
    }

    [Fact]
    public async Task A_losing_booking_learns_it_lost_in_two_round_trips_and_keeps_nothing()
    {
        var user = await db.NewUserAsync();
        var rival = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        await db.Booking.BookAsync(rival.Id, driver.Id, 1m);

        var trips = await RecordAsync(() => Assert.ThrowsAsync<DriverUnavailableException>(() => db.Booking.BookAsync(user.Id, driver.Id, 10m)));

        Assert.Equal(2, trips.Count);
        Assert.Empty(await db.Rides.GetLatestForUserAsync(user.Id, 10));
    }

    [Fact]
    public async Task A_rides_lifecycle_takes_six_round_trips_batched_and_eleven_with_one_statement_per_command_as_on_galera()
    {
        await using var galeraForm = DatabaseFixture.BuildServices(db.ConnectionString);
        galeraForm.GetRequiredService<RideBooking.Data.Internal.RideBookingDataSource>().Shards[0].Primary.AlwaysOneStatementPerCommand = true;
        var counts = new List<int>();
        foreach (var booking in new[] { db.Booking, galeraForm.GetRequiredService<IRideBookingService>() })
        {
            var user = await db.NewUserAsync();
            var driver = await db.NewDriverAsync();
            // Warm the pool (and the Galera probe of a new connection).
            await booking.CancelAsync((await booking.BookAsync(user.Id, driver.Id, 1m)).Id);
            var trips = await RecordAsync(async () =>
            {
                var ride = await booking.BookAsync(user.Id, driver.Id, 10m);
                await booking.AcceptAsync(ride.Id, driver.Id);
                Assert.Equal(RideStatus.Completed, (await booking.CompleteAsync(ride.Id)).Status);
            });
            counts.Add(trips.Count);
        }

        Assert.Equal([6, 11], counts);
    }

    /// <summary>The brief's flow: BEGIN, SELECT ... FOR UPDATE, UPDATE, INSERT, COMMIT (as text, so that each is one reported command).</summary>
    private async Task BriefBookingFlowAsync(long userId, long driverId, decimal fare)
    {
        await using var connection = await db.OpenAsync();
        await connection.ExecuteAsync("START TRANSACTION");
        var available = await connection.ExecuteScalarAsync<bool>("SELECT available FROM drivers WHERE id = @driverId FOR UPDATE", new { driverId });
        Assert.True(available);
        await connection.ExecuteAsync("UPDATE drivers SET available = FALSE WHERE id = @driverId", new { driverId });
        await connection.ExecuteAsync(
            "INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at) VALUES (@id, @userId, @driverId, 'REQUESTED', @fare, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
            new { id = Random.Shared.NextInt64(1L << 40, 1L << 50), userId, driverId, fare });
        await connection.ExecuteAsync("COMMIT");
    }

    [Fact]
    public async Task Library_transactions_run_at_read_committed()
    {
        await using var services = DatabaseFixture.BuildServices(db.ConnectionString);
        var runner = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<RideBooking.Data.Internal.TransactionRunner>(services);
        var isolation = await runner.RunAsync("IsolationProbe", transactional: true, async (unit, ct) =>
        {
            // MySQL 8 names the variable transaction_isolation; MariaDB before 11.1 calls it tx_isolation.
            try
            {
                return (string)(await unit.CreateCommand("SELECT @@session.transaction_isolation").Command.ExecuteScalarAsync(ct))!;
            }
            catch (MySqlConnector.MySqlException)
            {
                return (string)(await unit.CreateCommand("SELECT @@session.tx_isolation").Command.ExecuteScalarAsync(ct))!;
            }
        }, CancellationToken.None);

        Assert.Equal("READ-COMMITTED", isolation);
    }
}
