using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using RideBooking.Data.Internal;
using Xunit.Abstractions;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// Every write path, same-shard and cross-shard, with keys, refusals, payments retried after a failure, recovery and the
/// earnings rebuild, on the sharded cluster (single servers with replicas, so the GTID reads of read-your-writes are sent
/// too), in the batched form of a single server and in the form every unit takes on a Galera node (each statement a
/// command of its own): the same results; in the Galera form no command carries a second statement; in both, nothing is
/// sent before a unit's START TRANSACTION.
/// </summary>
#pragma warning disable CA1001 // xunit disposes the services through IAsyncLifetime.DisposeAsync.
public sealed partial class OneStatementPerCommandTests(ClusterFixture fixture, ITestOutputHelper output) : IClassFixture<ClusterFixture>, IAsyncLifetime
#pragma warning restore CA1001
{
    private ShardedServices _db = null!;

    public Task InitializeAsync()
    {
        _db = new ShardedServices(fixture.Cluster, o => o.RecoveryGracePeriod = TimeSpan.FromSeconds(1));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_write_path_gives_the_same_results_in_both_forms_and_no_statement_runs_outside_its_transaction(bool oneStatementPerCommand)
    {
        foreach (var shard in _db.Topology)
        {
            shard.Primary.AlwaysOneStatementPerCommand = oneStatementPerCommand;
        }

        var commands = await RoundTripTests.RecordAsync(RunEveryWritePathAsync);

        var statements = commands.Select(a => a.GetTagItem("db.query.text") as string ?? a.GetTagItem("db.statement") as string).ToList();
        Assert.DoesNotContain(null, statements);

        // START TRANSACTION opens a command or is not in it: a statement before it would run, and commit, on its own.
        var late = statements.Where(s => s!.Contains("START TRANSACTION", StringComparison.Ordinal) && !s.StartsWith(UnitOfWork.BeginTransaction, StringComparison.Ordinal)).ToList();
        Assert.True(late.Count == 0, "statements sent before START TRANSACTION: " + string.Join(" | ", late.Take(5)));
        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);
        if (!oneStatementPerCommand)
        {
            return;
        }

        // Not units: the session set-up when a connection opens, and a replica read that first waits for the caller's writes.
        var notUnits = new[] { "SET SESSION TRANSACTION ISOLATION LEVEL", "SELECT MASTER_GTID_WAIT(", "SELECT WAIT_FOR_EXECUTED_GTID_SET(" };
        var batches = statements
            .Where(s => !notUnits.Any(prefix => s!.StartsWith(prefix, StringComparison.Ordinal)))
            .Where(s => SecondStatement().IsMatch(s!.StartsWith(UnitOfWork.BeginTransaction, StringComparison.Ordinal) ? s[UnitOfWork.BeginTransaction.Length..] : s))
            .ToList();
        output.WriteLine($"{commands.Count} commands, {batches.Count} with more than one statement");
        Assert.True(batches.Count == 0, "commands with a second statement: " + string.Join(" | ", batches.Take(5)));
        Assert.Contains(statements, s => s!.StartsWith("SELECT @@last_gtid", StringComparison.Ordinal));
        Assert.Contains(statements, s => s == "COMMIT");
    }

    private async Task RunEveryWritePathAsync()
    {
        var resolver = _db.Services.GetRequiredService<ShardResolver>();

        // Creations, plain and keyed (a repeat returns the first result).
        var userKey = "user-" + Guid.NewGuid().ToString("N");
        var keyedUser = await _db.Users.CreateAsync("Keyed rider", ShardedServices.NextPhone(), userKey);
        var driverKey = "driver-" + Guid.NewGuid().ToString("N");
        var keyedDriver = await _db.Drivers.CreateAsync("Keyed driver", "KA-77", driverKey);
        Assert.Equal(keyedDriver, await _db.Drivers.CreateAsync("Keyed driver", "KA-77", driverKey));
        await Assert.ThrowsAsync<DuplicatePhoneException>(() => _db.Users.CreateAsync("Other rider", keyedUser.Phone));
        var user0 = await _db.NewUserOnShardAsync(0);
        var user1 = await _db.NewUserOnShardAsync(1);
        var driver0 = await _db.NewDriverOnShardAsync(0);
        var driver1 = await _db.NewDriverOnShardAsync(1);

        // Same shard: a keyed booking, repeated; a refused one; accept, complete, a failed then a successful payment.
        var bookingKey = "ride-" + Guid.NewGuid().ToString("N");
        var local = await _db.Booking.BookAsync(user0.Id, driver0.Id, 14m, bookingKey);
        Assert.Equal(local.Id, (await _db.Booking.BookAsync(user0.Id, driver0.Id, 14m, bookingKey)).Id);
        await Assert.ThrowsAsync<DriverUnavailableException>(() => _db.Booking.BookAsync(user1.Id, driver0.Id, 9m));
        await Assert.ThrowsAsync<ActiveRideExistsException>(() => _db.Booking.BookAsync(user0.Id, driver1.Id, 9m));
        Assert.Equal(RideStatus.Accepted, (await _db.Booking.AcceptAsync(local.Id, driver0.Id)).Status);
        Assert.Equal(RideStatus.Completed, (await _db.Booking.CompleteAsync(local.Id)).Status);
        await PayAsync(resolver, local, sameShardClaim: true);

        // Across shards: booked, accepted, completed (relayed through the outbox), paid with a claim on another shard.
        var across = await _db.Booking.BookAsync(user1.Id, driver0.Id, 23m, "ride-" + Guid.NewGuid().ToString("N"));
        Assert.False((await _db.Drivers.GetAsync(driver0.Id))!.Available);
        Assert.Equal(RideStatus.Accepted, (await _db.Booking.AcceptAsync(across.Id, driver0.Id)).Status);
        Assert.Equal(RideStatus.Completed, (await _db.Booking.CompleteAsync(across.Id)).Status);
        Assert.True((await _db.Drivers.GetAsync(driver0.Id))!.Available);
        await PayAsync(resolver, across, sameShardClaim: false);

        // Cancellations, same shard and across.
        var cancelledLocal = await _db.Booking.BookAsync(user1.Id, driver1.Id, 5m);
        Assert.Equal(RideStatus.Cancelled, (await _db.Booking.CancelAsync(cancelledLocal.Id)).Status);
        var cancelledAcross = await _db.Booking.BookAsync(user0.Id, driver1.Id, 6m);
        Assert.Equal(RideStatus.Cancelled, (await _db.Booking.CancelAsync(cancelledAcross.Id)).Status);
        Assert.True((await _db.Drivers.GetAsync(driver1.Id))!.Available);

        var earnings = await _db.Rides.GetDriverEarningsAsync();
        Assert.Contains(earnings, e => e.DriverId == driver0.Id && e.TotalEarnings == 37m);
        await _db.Services.GetRequiredService<IDriverEarningsBackfill>().RebuildAsync(driversPerBatch: 50);
        Assert.Contains(await _db.Rides.GetDriverEarningsAsync(), e => e.DriverId == driver0.Id && e.TotalEarnings == 37m);
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        Assert.Equal(0, await _db.Services.GetRequiredService<IRideBookingRecovery>().RunAsync());
    }

    /// <summary>A failed payment, then a successful one under another transaction id whose claim lives on the ride's shard or not.</summary>
    private async Task PayAsync(ShardResolver resolver, Ride ride, bool sameShardClaim)
    {
        var rideShard = resolver.PhysicalShardOf(ride.Id);
        string NewTransactionId()
        {
            while (true)
            {
                var id = "txn-" + Guid.NewGuid().ToString("N");
                if ((resolver.PhysicalShardOfLogical(KeyHome.OfTransactionId(id)) == rideShard) == sameShardClaim)
                {
                    return id;
                }
            }
        }

        var failed = await _db.Payments.RecordAsync(ride.Id, NewTransactionId(), ride.Fare);
        Assert.False(failed.AlreadyRecorded);
        Assert.Equal(PaymentStatus.Failed, (await _db.Payments.SetStatusAsync(failed.Payment.TransactionId, PaymentStatus.Failed)).Status);
        var paid = await _db.Payments.RecordAsync(ride.Id, NewTransactionId(), ride.Fare);
        Assert.NotEqual(failed.Payment.Id, paid.Payment.Id);
        Assert.True((await _db.Payments.RecordAsync(ride.Id, paid.Payment.TransactionId, ride.Fare)).AlreadyRecorded);
        Assert.Equal(PaymentStatus.Succeeded, (await _db.Payments.SetStatusAsync(paid.Payment.TransactionId, PaymentStatus.Succeeded)).Status);
        await Assert.ThrowsAsync<PaymentConflictException>(() => _db.Payments.RecordAsync(ride.Id, NewTransactionId(), ride.Fare));
        Assert.Equal(paid.Payment.Id, (await _db.Payments.GetForRideAsync(ride.Id))!.Id);
    }

    /// <summary>A semicolon followed by more SQL: a second statement in the command.</summary>
    [GeneratedRegex(@";\s*\S")]
    private static partial Regex SecondStatement();
}
