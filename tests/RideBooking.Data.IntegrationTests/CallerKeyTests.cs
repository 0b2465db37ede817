using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RideBooking.Data.Internal;

namespace RideBooking.Data.IntegrationTests;

/// <summary>Callers' idempotency keys: a repeat returns the first result; other arguments under the same key are a conflict.</summary>
public sealed class CallerKeyTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static string NewKey() => "key-" + Guid.NewGuid().ToString("N");

    /// <summary>
    /// A keyed write refused by the server after its key was inserted (a statement made to fail by a test seam) keeps
    /// nothing, its key included: a repeat with the key then writes. (A driver's key was once inserted before its
    /// transaction began, so it stayed behind, and every repeat failed with "could not be read".)
    /// </summary>
    [Theory]
    [InlineData("driver", false)]
    [InlineData("driver", true)]
    [InlineData("user", false)]
    [InlineData("user", true)]
    [InlineData("booking", false)]
    [InlineData("booking", true)]
    public async Task A_keyed_write_refused_after_its_key_was_taken_keeps_no_key_and_a_repeat_writes(string operation, bool oneStatementPerCommand)
    {
        await using var services = DatabaseFixture.BuildServices(db.ConnectionString);
        services.GetRequiredService<RideBookingDataSource>().Shards[0].Primary.AlwaysOneStatementPerCommand = oneStatementPerCommand;
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var key = NewKey();
        var phone = db.NextPhone();
        var target = operation switch { "driver" => "INSERT INTO drivers", "user" => "INSERT INTO users", _ => "UPDATE drivers SET available = FALSE" };
        var refused = 0;
        services.GetRequiredService<TransactionRunner>().RewriteSql = sql =>
            sql.Contains(CallerKey.Insert, StringComparison.Ordinal) && sql.Contains(target, StringComparison.Ordinal) && Interlocked.Exchange(ref refused, 1) == 0
                ? sql.Replace(target, "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused';\n" + target, StringComparison.Ordinal)
                : sql;
        async Task<long> WriteAsync() => operation switch
        {
            "driver" => (await services.GetRequiredService<IDriverRepository>().CreateAsync("Keyed driver", "KA-88", key)).Id,
            "user" => (await services.GetRequiredService<IUserRepository>().CreateAsync("Keyed rider", phone, key)).Id,
            _ => (await services.GetRequiredService<IRideBookingService>().BookAsync(user.Id, driver.Id, 8m, key)).Id,
        };

        await Assert.ThrowsAsync<RideBookingInfrastructureException>(WriteAsync);
        Assert.Equal(1, refused);
        await using var check = await db.OpenAsync();
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM idempotency_keys WHERE idempotency_key = @Key", new { Key = key }));

        var id = await WriteAsync();
        Assert.Equal(1, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM idempotency_keys WHERE idempotency_key = @Key AND entity_id = @Id", new { Key = key, Id = id }));
        Assert.Equal(id, await WriteAsync());
    }

    [Fact]
    public async Task A_booking_repeated_with_its_key_returns_the_first_ride_and_books_nothing_new()
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var key = NewKey();

        var first = await db.Booking.BookAsync(user.Id, driver.Id, 12.5m, key);
        await db.Booking.AcceptAsync(first.Id, driver.Id);
        var repeat = await db.Booking.BookAsync(user.Id, driver.Id, 12.5m, key);

        // The first ride, in its current state, instead of ActiveRideExistsException for the caller's own ride.
        Assert.Equal(first.Id, repeat.Id);
        Assert.Equal(RideStatus.Accepted, repeat.Status);
        var conflict = await Assert.ThrowsAsync<IdempotencyKeyConflictException>(() => db.Booking.BookAsync(user.Id, driver.Id, 13m, key));
        Assert.Equal(key, conflict.IdempotencyKey);
        Assert.Equal(first.Id, conflict.ExistingEntityId);

        await using var check = await db.OpenAsync();
        Assert.Equal(1, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides WHERE user_id = @Id", new { user.Id }));
    }

    [Fact]
    public async Task Concurrent_bookings_with_one_key_all_get_the_one_ride()
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var key = NewKey();

        var rides = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => db.Booking.BookAsync(user.Id, driver.Id, 9m, key))));

        Assert.Single(rides.Select(r => r.Id).Distinct());
        await using var check = await db.OpenAsync();
        Assert.Equal(1, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides WHERE user_id = @Id", new { user.Id }));
    }

    [Fact]
    public async Task A_user_creation_repeated_with_its_key_returns_its_own_user_not_a_duplicate_phone()
    {
        var phone = db.NextPhone();
        var key = NewKey();

        var first = await db.Users.CreateAsync("Keyed rider", phone, key);
        var repeat = await db.Users.CreateAsync("Keyed rider", phone, key);

        Assert.Equal(first, repeat);
        await Assert.ThrowsAsync<IdempotencyKeyConflictException>(() => db.Users.CreateAsync("Keyed rider", db.NextPhone(), key));
        // Without the key, the same phone is another user's: refused as before.
        await Assert.ThrowsAsync<DuplicatePhoneException>(() => db.Users.CreateAsync("Keyed rider", phone));

        await using var check = await db.OpenAsync();
        Assert.Equal(1, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users WHERE phone = @phone", new { phone }));
        // The key's row holds a hash of the arguments, never the phone.
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM idempotency_keys WHERE request_hash LIKE CONCAT('%', @phone, '%')", new { phone }));
    }

    [Fact]
    public async Task A_driver_creation_repeated_with_its_key_returns_the_first_driver()
    {
        var key = NewKey();
        var first = await db.Drivers.CreateAsync("Keyed driver", "KA-11", key);
        var repeat = await db.Drivers.CreateAsync("Keyed driver", "KA-11", key);

        Assert.Equal(first, repeat);
        await Assert.ThrowsAsync<IdempotencyKeyConflictException>(() => db.Drivers.CreateAsync("Keyed driver", "KA-12", key));
        await using var check = await db.OpenAsync();
        Assert.Equal(1, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM idempotency_keys WHERE idempotency_key = @key", new { key }));
        // A keyed creation lives on the logical shard its key names.
        Assert.Equal(await check.ExecuteScalarAsync<long>("SELECT logical_shard FROM drivers WHERE id = @Id", new { first.Id }), await check.ExecuteScalarAsync<long>("SELECT CRC32(@key) & 255", new { key }));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" padded")]
    [InlineData("padded ")]
    public async Task A_malformed_key_is_refused_before_anything_is_written(string key)
    {
        var before = await db.ChecksumAsync();
        await Assert.ThrowsAnyAsync<ArgumentException>(() => db.Booking.BookAsync(1, 2, 3m, key));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => db.Users.CreateAsync("x", db.NextPhone(), key));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => db.Drivers.CreateAsync("x", "KA-1", key));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => db.Drivers.CreateAsync("x", "KA-1", new string('k', 101)));
        Assert.Equal(before, await db.ChecksumAsync());
    }
}
