namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// Every business error says what it is about as properties: the missing entity (<see cref="EntityNotFoundException.EntityKind"/>
/// and <see cref="EntityNotFoundException.EntityId"/>) and the rule that refused (<see cref="RideBookingException.Conflict"/>),
/// on one database. The sharded paths are in <see cref="ShardedHostReadApiTests"/>.
/// </summary>
public sealed class ErrorPropertyTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task A_missing_user_driver_ride_or_payment_is_named_by_kind_and_id()
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        const long missing = long.MaxValue - 7;

        AssertMissing(await Assert.ThrowsAsync<EntityNotFoundException>(() => db.Booking.BookAsync(user.Id, missing, 5m)), EntityKind.Driver, missing);
        AssertMissing(await Assert.ThrowsAsync<EntityNotFoundException>(() => db.Booking.BookAsync(missing, driver.Id, 5m)), EntityKind.User, missing);
        AssertMissing(await Assert.ThrowsAsync<EntityNotFoundException>(() => db.Booking.AcceptAsync(missing, driver.Id)), EntityKind.Ride, missing);
        AssertMissing(await Assert.ThrowsAsync<EntityNotFoundException>(() => db.Booking.CompleteAsync(missing)), EntityKind.Ride, missing);
        AssertMissing(await Assert.ThrowsAsync<EntityNotFoundException>(() => db.Booking.CancelAsync(missing)), EntityKind.Ride, missing);
        AssertMissing(await Assert.ThrowsAsync<EntityNotFoundException>(() => db.Payments.RecordAsync(missing, "txn-missing-ride-props", 5m)), EntityKind.Ride, missing);
        AssertMissing(await Assert.ThrowsAsync<EntityNotFoundException>(() => db.Payments.SetStatusAsync("txn-never-recorded-props", PaymentStatus.Succeeded)), EntityKind.Payment, null);
    }

    [Fact]
    public async Task Each_refusal_names_its_conflict()
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var ride = await db.Booking.BookAsync(user.Id, driver.Id, 30m);

        var rival = await db.NewUserAsync();
        var otherDriver = await db.NewDriverAsync();
        AssertConflict(await Assert.ThrowsAsync<DriverUnavailableException>(() => db.Booking.BookAsync(rival.Id, driver.Id, 5m)), RideBookingConflict.DriverUnavailable);
        AssertConflict(await Assert.ThrowsAsync<ActiveRideExistsException>(() => db.Booking.BookAsync(user.Id, otherDriver.Id, 5m)), RideBookingConflict.ActiveRideExists);
        AssertConflict(await Assert.ThrowsAsync<InvalidRideStateException>(() => db.Booking.CompleteAsync(ride.Id)), RideBookingConflict.InvalidRideState);
        AssertConflict(await Assert.ThrowsAsync<InvalidRideStateException>(() => db.Booking.AcceptAsync(ride.Id, otherDriver.Id)), RideBookingConflict.NotRideDriver);
        AssertConflict(await Assert.ThrowsAsync<InvalidRideStateException>(() => db.Payments.RecordAsync(ride.Id, $"txn-early-{ride.Id}", 30m)), RideBookingConflict.InvalidRideState);

        await db.Booking.AcceptAsync(ride.Id, driver.Id);
        await db.Booking.CompleteAsync(ride.Id);
        AssertConflict(await Assert.ThrowsAsync<InvalidRideStateException>(() => db.Booking.CancelAsync(ride.Id)), RideBookingConflict.InvalidRideState);
        var txn = $"txn-props-{ride.Id}";
        await db.Payments.RecordAsync(ride.Id, txn, 30m);
        AssertConflict(await Assert.ThrowsAsync<PaymentConflictException>(() => db.Payments.RecordAsync(ride.Id, txn, 31m)), RideBookingConflict.TransactionIdMismatch);
        AssertConflict(await Assert.ThrowsAsync<PaymentConflictException>(() => db.Payments.RecordAsync(ride.Id, "other-" + txn, 30m)), RideBookingConflict.RideAlreadyPaid);
        await db.Payments.SetStatusAsync(txn, PaymentStatus.Succeeded);
        AssertConflict(await Assert.ThrowsAsync<PaymentConflictException>(() => db.Payments.SetStatusAsync(txn, PaymentStatus.Failed)), RideBookingConflict.PaymentStatusFinal);

        var phone = db.NextPhone();
        await db.Users.CreateAsync("First", phone);
        var duplicate = await Assert.ThrowsAsync<DuplicatePhoneException>(() => db.Users.CreateAsync("Second", phone));
        AssertConflict(duplicate, RideBookingConflict.DuplicatePhone);
        Assert.DoesNotContain(phone, duplicate.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(phone[1..], duplicate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Exceptions_made_by_hand_carry_their_type_default()
    {
        Assert.Equal(RideBookingConflict.DriverUnavailable, new DriverUnavailableException("x").Conflict);
        Assert.Equal(RideBookingConflict.ActiveRideExists, new ActiveRideExistsException().Conflict);
        Assert.Equal(RideBookingConflict.DuplicatePhone, new DuplicatePhoneException("x", null).Conflict);
        Assert.Equal(RideBookingConflict.InvalidRideState, new InvalidRideStateException("x").Conflict);
        Assert.Equal(RideBookingConflict.None, new EntityNotFoundException("x").Conflict);
        Assert.Equal(EntityKind.Unspecified, new EntityNotFoundException("x").EntityKind);
        Assert.Equal(RideBookingConflict.RideAlreadyPaid, new PaymentConflictException("x") { Conflict = RideBookingConflict.RideAlreadyPaid }.Conflict);
    }

    internal static void AssertMissing(EntityNotFoundException ex, EntityKind kind, long? id)
    {
        Assert.Equal((kind, id, RideBookingConflict.None), (ex.EntityKind, ex.EntityId, ex.Conflict));
    }

    internal static void AssertConflict(RideBookingException ex, RideBookingConflict conflict) => Assert.Equal(conflict, ex.Conflict);
}
