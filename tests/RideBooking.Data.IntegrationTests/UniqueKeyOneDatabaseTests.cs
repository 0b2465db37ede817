using Dapper;
using RideBooking.Data.Internal;

namespace RideBooking.Data.IntegrationTests;

/// <summary>With one database every key's home is the row's own shard: claims are written in the row's transaction, and nothing costs a round trip more.</summary>
public sealed class UniqueKeyOneDatabaseTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task A_user_and_its_phone_claim_are_one_transaction_and_one_round_trip()
    {
        await db.NewUserAsync();
        var phone = db.NextPhone();
        User? user = null;

        var trips = await RoundTripTests.RecordAsync(async () => user = await db.Users.CreateAsync("One", phone));

        Assert.Single(trips);
        await using var connection = await db.OpenAsync();
        Assert.Equal((user!.Id, true, KeyHome.OfPhone(phone)), await connection.QuerySingleAsync<(long, bool, int)>(
            "SELECT user_id, confirmed, logical_shard FROM phone_claims WHERE phone = @phone", new { phone }));
        Assert.Equal(user, await db.Users.GetByPhoneAsync(phone));
        Assert.Single(await RoundTripTests.RecordAsync(() => db.Users.GetByPhoneAsync(phone)));
        Assert.Null(await db.Users.GetByPhoneAsync(db.NextPhone()));

        var before = await db.ChecksumAsync();
        var claims = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM phone_claims");
        await Assert.ThrowsAsync<DuplicatePhoneException>(() => db.Users.CreateAsync("Two", phone));
        await Assert.ThrowsAsync<DuplicatePhoneException>(() => db.Users.CreateAsync("Two", phone + " "));
        Assert.Equal(before, await db.ChecksumAsync());
        Assert.Equal(claims, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM phone_claims"));
    }

    [Fact]
    public async Task A_payment_and_its_transaction_claim_are_one_transaction_and_settling_it_asks_no_claim()
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var ride = await db.Booking.BookAsync(user.Id, driver.Id, 15m);
        await db.Booking.AcceptAsync(ride.Id, driver.Id);
        await db.Booking.CompleteAsync(ride.Id);
        var txn = "txn-one-" + Guid.NewGuid().ToString("N");
        PaymentResult? recorded = null;

        Assert.Single(await RoundTripTests.RecordAsync(async () => recorded = await db.Payments.RecordAsync(ride.Id, txn, 15m)));

        await using var connection = await db.OpenAsync();
        Assert.Equal((recorded!.Payment.Id, ride.Id, 15m, true), await connection.QuerySingleAsync<(long, long, decimal, bool)>(
            "SELECT payment_id, ride_id, amount, confirmed FROM transaction_claims WHERE transaction_id = @txn", new { txn }));
        Assert.True((await db.Payments.RecordAsync(ride.Id, txn, 15m)).AlreadyRecorded);
        Assert.Single(await RoundTripTests.RecordAsync(() => db.Payments.SetStatusAsync(txn, PaymentStatus.Succeeded)));
        Assert.Equal(PaymentStatus.Succeeded, (await db.Payments.GetByTransactionIdAsync(txn))!.Status);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM transaction_claims WHERE transaction_id = @txn", new { txn }));
    }
}
