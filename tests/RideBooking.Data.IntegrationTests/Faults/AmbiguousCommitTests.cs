using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Internal;

namespace RideBooking.Data.IntegrationTests.Faults;

/// <summary>
/// On a Galera node a COMMIT can answer 1213 or 1047 although the cluster stored the write set (seen in the node-kill
/// storm: a cancellation whose COMMIT answered 1213 had been stored, and the retry refused the caller's own cancellation;
/// a booking whose COMMIT answered 1047 had been stored). The server here stores the COMMIT and then reports the error,
/// the way such a node answers, with COMMIT sent on its own as on Galera: every write must come back with its own
/// result, written once.
/// </summary>
public sealed class AmbiguousCommitTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    [Theory]
    [InlineData("SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = 'Deadlock found when trying to get lock; try restarting transaction'")]
    [InlineData("SIGNAL SQLSTATE '08S01' SET MYSQL_ERRNO = 1047, MESSAGE_TEXT = 'WSREP has not yet prepared node for application use'")]
    public async Task Every_write_whose_commit_answered_an_error_after_storing_returns_its_own_result_written_once(string answer)
    {
        var storedThenError = "COMMIT; " + answer;
        await using var services = new FaultServices(fixture.ConnectionString);
        var provider = services.Provider;
        provider.GetRequiredService<RideBookingDataSource>().Shards[0].Primary.AlwaysOneStatementPerCommand = true;
        var runner = provider.GetRequiredService<TransactionRunner>();
        var armed = 0;
        runner.CommitStatement = () => Interlocked.Exchange(ref armed, 0) == 1 ? storedThenError : "COMMIT";
        var armedCalls = new List<string>();
        void Arm([System.Runtime.CompilerServices.CallerLineNumber] int line = 0)
        {
            if (Volatile.Read(ref armed) == 1)
            {
                armedCalls.Add($"line {line - 1}");
            }

            Volatile.Write(ref armed, 1);
        }

        var booking = provider.GetRequiredService<IRideBookingService>();
        var payments = provider.GetRequiredService<IPaymentRepository>();
        var phone = Outside.NextPhone();
        var vehicle = "KA-" + Random.Shared.Next(100_000, 999_999);

        Arm();
        var user = await services.Users.CreateAsync("Rider", phone);
        var driver = await services.Drivers.CreateAsync("Driver", vehicle);
        Arm();
        var ride = await booking.BookAsync(user.Id, driver.Id, 21.50m);
        Arm();
        Assert.Equal(RideStatus.Accepted, (await booking.AcceptAsync(ride.Id, driver.Id)).Status);
        Arm();
        Assert.Equal(RideStatus.Completed, (await booking.CompleteAsync(ride.Id)).Status);
        Arm();
        var paid = await payments.RecordAsync(ride.Id, "txn-" + Guid.NewGuid().ToString("N"), 21.50m);
        Assert.Equal(PaymentStatus.Succeeded, (await payments.SetStatusAsync(paid.Payment.TransactionId, PaymentStatus.Succeeded)).Status);
        Arm();
        var second = await booking.BookAsync(user.Id, driver.Id, 9m);
        Arm();
        Assert.Equal(RideStatus.Cancelled, (await booking.CancelAsync(second.Id)).Status);

        // Every COMMIT above answered the error after storing (the driver's creation and the status change are autocommit
        // writes, without a COMMIT): each was run again as a replay, never as a second write.
        Assert.Equal(0, Volatile.Read(ref armed));
        Assert.Empty(armedCalls);
        var retried = services.Retries("deadlock") + services.Retries("node_not_ready");
        Assert.True(retried >= 7, $"retries {retried}");
        await using var connection = new MySqlConnection(fixture.AdminConnectionString);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users WHERE phone = @phone", new { phone }));
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM drivers WHERE vehicle_number = @vehicle", new { vehicle }));
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides WHERE user_id = @Id", new { user.Id }));
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM payments WHERE ride_id = @Id", new { ride.Id }));
        var rollup = await connection.QuerySingleAsync<(decimal Total, long Rides)>("SELECT total_earnings, completed_rides FROM driver_earnings WHERE driver_id = @Id", new { driver.Id });
        Assert.Equal((21.50m, 1L), rollup);
        Assert.True((await services.Drivers.GetAsync(driver.Id))!.Available);
        await CrossShardInvariants.AssertAllAsync([fixture.AdminConnectionString]);
    }
}
