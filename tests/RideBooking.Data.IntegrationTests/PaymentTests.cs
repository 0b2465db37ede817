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
}
