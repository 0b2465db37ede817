using Dapper;
using MySqlConnector;

namespace RideBooking.Data.IntegrationTests;

public sealed class PaymentTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    public static TheoryData<bool> AffectedRowsModes => new() { false, true };

    private async Task<(IPaymentRepository Payments, Ride Ride, IAsyncDisposable Scope)> CompletedRideAsync(bool useAffectedRows, decimal fare = 100m)
    {
        var services = DatabaseFixture.BuildServices(new MySqlConnectionStringBuilder(db.ConnectionString) { UseAffectedRows = useAffectedRows }.ConnectionString);
        var booking = (IRideBookingService)services.GetService(typeof(IRideBookingService))!;
        var payments = (IPaymentRepository)services.GetService(typeof(IPaymentRepository))!;
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var ride = await booking.BookAsync(user.Id, driver.Id, fare);
        await booking.AcceptAsync(ride.Id, driver.Id);
        ride = await booking.CompleteAsync(ride.Id);
        return (payments, ride, services);
    }

    private async Task<long> PaymentRowsAsync(long rideId)
    {
        await using var connection = await db.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM payments WHERE ride_id = @rideId", new { rideId });
    }

    [Theory]
    [MemberData(nameof(AffectedRowsModes))]
    public async Task First_record_is_new_and_a_replay_returns_the_same_payment(bool useAffectedRows)
    {
        var (payments, ride, scope) = await CompletedRideAsync(useAffectedRows);
        await using var _ = scope;
        var txn = "txn-" + Guid.NewGuid();

        var first = await payments.RecordAsync(ride.Id, txn, 100m);
        Assert.False(first.AlreadyRecorded);
        Assert.Equal(PaymentStatus.Pending, first.Payment.Status);
        Assert.Equal((ride.Id, txn, 100m), (first.Payment.RideId, first.Payment.TransactionId, first.Payment.Amount));

        var replay = await payments.RecordAsync(ride.Id, txn, 100m);
        Assert.True(replay.AlreadyRecorded);
        Assert.Equal(first.Payment, replay.Payment);
        Assert.Equal(1, await PaymentRowsAsync(ride.Id));
        Assert.Equal(first.Payment, await payments.GetByTransactionIdAsync(txn));
    }

    [Theory]
    [MemberData(nameof(AffectedRowsModes))]
    public async Task Conflicting_records_are_refused_and_the_stored_row_is_unchanged(bool useAffectedRows)
    {
        var (payments, ride, scope) = await CompletedRideAsync(useAffectedRows);
        await using var _ = scope;
        var (_, otherRide, otherScope) = await CompletedRideAsync(useAffectedRows);
        await using var __ = otherScope;
        var txn = "txn-" + Guid.NewGuid();
        var stored = (await payments.RecordAsync(ride.Id, txn, 100m)).Payment;
        var before = await db.ChecksumAsync();

        await Assert.ThrowsAsync<PaymentConflictException>(() => payments.RecordAsync(ride.Id, txn, 99.99m));
        await Assert.ThrowsAsync<PaymentConflictException>(() => payments.RecordAsync(otherRide.Id, txn, 100m));
        await Assert.ThrowsAsync<PaymentConflictException>(() => payments.RecordAsync(ride.Id, "another-" + txn, 100m));

        Assert.Equal(before, await db.ChecksumAsync());
        Assert.Equal(stored, await payments.GetByTransactionIdAsync(txn));
    }

    [Theory]
    [MemberData(nameof(AffectedRowsModes))]
    public async Task Status_moves_from_pending_to_a_final_state_once(bool useAffectedRows)
    {
        var (payments, ride, scope) = await CompletedRideAsync(useAffectedRows);
        await using var _ = scope;
        var txn = "txn-" + Guid.NewGuid();
        var recorded = (await payments.RecordAsync(ride.Id, txn, 100m)).Payment;

        var succeeded = await payments.SetStatusAsync(txn, PaymentStatus.Succeeded);
        Assert.Equal(recorded with { Status = PaymentStatus.Succeeded }, succeeded);

        // Same final status again: a no-op.
        Assert.Equal(succeeded, await payments.SetStatusAsync(txn, PaymentStatus.Succeeded));

        var before = await db.ChecksumAsync();
        await Assert.ThrowsAsync<PaymentConflictException>(() => payments.SetStatusAsync(txn, PaymentStatus.Failed));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => payments.SetStatusAsync(txn, PaymentStatus.Pending));
        await Assert.ThrowsAsync<EntityNotFoundException>(() => payments.SetStatusAsync("missing-" + txn, PaymentStatus.Failed));
        Assert.Equal(before, await db.ChecksumAsync());

        // A replay of the recording still finds the (now settled) payment.
        var replay = await payments.RecordAsync(ride.Id, txn, 100m);
        Assert.True(replay.AlreadyRecorded);
        Assert.Equal(PaymentStatus.Succeeded, replay.Payment.Status);
    }

    [Fact]
    public async Task Only_existing_completed_rides_can_be_paid()
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var ride = await db.Booking.BookAsync(user.Id, driver.Id, 10m);
        var before = await db.ChecksumAsync();

        await Assert.ThrowsAsync<EntityNotFoundException>(() => db.Payments.RecordAsync(long.MaxValue, "txn-missing-ride", 10m));
        await Assert.ThrowsAsync<InvalidRideStateException>(() => db.Payments.RecordAsync(ride.Id, "txn-requested", 10m));
        await db.Booking.AcceptAsync(ride.Id, driver.Id);
        before = await db.ChecksumAsync();
        await Assert.ThrowsAsync<InvalidRideStateException>(() => db.Payments.RecordAsync(ride.Id, "txn-accepted", 10m));
        Assert.Equal(before, await db.ChecksumAsync());
        Assert.Null(await db.Payments.GetByTransactionIdAsync("txn-accepted"));
    }

    [Fact]
    public async Task Transaction_ids_are_compared_byte_for_byte()
    {
        var (payments, ride, scope) = await CompletedRideAsync(false);
        await using var _ = scope;
        await payments.RecordAsync(ride.Id, "Txn-Case", 100m);
        Assert.Null(await payments.GetByTransactionIdAsync("txn-case"));
        // Another id (differing only in case) for an already paid ride is a conflict, not a replay.
        await Assert.ThrowsAsync<PaymentConflictException>(() => payments.RecordAsync(ride.Id, "txn-case", 100m));
    }

    [Theory]
    [MemberData(nameof(AffectedRowsModes))]
    public async Task A_ride_is_payable_again_after_a_failed_attempt_but_never_twice_at_once(bool useAffectedRows)
    {
        var (payments, ride, scope) = await CompletedRideAsync(useAffectedRows);
        await using var _ = scope;
        var first = "txn-" + Guid.NewGuid();
        var second = "txn-" + Guid.NewGuid();
        var third = "txn-" + Guid.NewGuid();

        await payments.RecordAsync(ride.Id, first, 100m);
        await payments.SetStatusAsync(first, PaymentStatus.Failed);

        // A new attempt under a new transaction id is recorded; a third while it is pending is refused.
        var retried = await payments.RecordAsync(ride.Id, second, 100m);
        Assert.False(retried.AlreadyRecorded);
        Assert.Equal(PaymentStatus.Pending, retried.Payment.Status);
        var before = await db.ChecksumAsync();
        await Assert.ThrowsAsync<PaymentConflictException>(() => payments.RecordAsync(ride.Id, third, 100m));
        Assert.Equal(before, await db.ChecksumAsync());

        // Once it succeeded, the ride stays paid: no further attempt, and the failed one replays as failed.
        await payments.SetStatusAsync(second, PaymentStatus.Succeeded);
        await Assert.ThrowsAsync<PaymentConflictException>(() => payments.RecordAsync(ride.Id, third, 100m));
        var replayOfFailed = await payments.RecordAsync(ride.Id, first, 100m);
        Assert.True(replayOfFailed.AlreadyRecorded);
        Assert.Equal(PaymentStatus.Failed, replayOfFailed.Payment.Status);

        await using var connection = await db.OpenAsync();
        var rows = (await connection.QueryAsync<(string TransactionId, string Status)>(
            "SELECT transaction_id, status FROM payments WHERE ride_id = @Id ORDER BY id", new { ride.Id })).ToList();
        Assert.Equal([(first, "FAILED"), (second, "SUCCEEDED")], rows);
    }

    [Fact]
    public async Task After_a_failure_racing_attempts_record_exactly_one_payment()
    {
        var (payments, ride, scope) = await CompletedRideAsync(false);
        await using var _ = scope;
        var failed = "txn-" + Guid.NewGuid();
        await payments.RecordAsync(ride.Id, failed, 100m);
        await payments.SetStatusAsync(failed, PaymentStatus.Failed);

        using var start = new Barrier(16);
        var attempts = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            start.SignalAndWait();
            try
            {
                return (await payments.RecordAsync(ride.Id, $"txn-race-{i}-{Guid.NewGuid()}", 100m)).Payment;
            }
            catch (PaymentConflictException)
            {
                return null;
            }
        })).ToList();
        var recorded = (await Task.WhenAll(attempts)).Where(p => p is not null).ToList();

        var winner = Assert.Single(recorded);
        await using var connection = await db.OpenAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM payments WHERE ride_id = @Id AND status <> 'FAILED'", new { ride.Id }));
        Assert.Equal(winner!.TransactionId, await connection.ExecuteScalarAsync<string>("SELECT transaction_id FROM payments WHERE ride_id = @Id AND status = 'PENDING'", new { ride.Id }));
    }

    [Fact]
    public async Task The_database_itself_refuses_a_second_live_payment_for_a_ride()
    {
        var (payments, ride, scope) = await CompletedRideAsync(false);
        await using var _ = scope;
        var live = (await payments.RecordAsync(ride.Id, "txn-" + Guid.NewGuid(), 100m)).Payment;
        await using var connection = await db.OpenAsync();
        const string Insert = """
            INSERT INTO payments (id, ride_id, transaction_id, amount, status, created_at, updated_at)
            VALUES (@Id, @RideId, @Txn, 100, @Status, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))
            """;

        // Written around the library: a second PENDING or SUCCEEDED row breaks uq_payments_active_ride, a FAILED one does not.
        foreach (var status in new[] { "PENDING", "SUCCEEDED" })
        {
            var ex = await Assert.ThrowsAsync<MySqlException>(() => connection.ExecuteAsync(Insert, new { Id = live.Id + (status == "PENDING" ? 256 : 512), RideId = ride.Id, Txn = "txn-" + Guid.NewGuid(), Status = status }));
            Assert.Equal(MySqlErrorCode.DuplicateKeyEntry, ex.ErrorCode);
            Assert.Contains("uq_payments_active_ride", ex.Message, StringComparison.Ordinal);
        }

        await connection.ExecuteAsync(Insert, new { Id = live.Id + 768, RideId = ride.Id, Txn = "txn-" + Guid.NewGuid(), Status = "FAILED" });
        Assert.Equal(2, await PaymentRowsAsync(ride.Id));
    }
}
