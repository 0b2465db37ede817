namespace RideBooking.Data.IntegrationTests;

/// <summary>Malformed arguments fail with the ArgumentException family, business rules with a RideBookingException, and nothing is written.</summary>
public sealed class BadInputTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static readonly string Long101 = new('n', 101);
    private static readonly string Long21 = new('7', 21);

    // Theory data is serialized, which would replace an unpaired surrogate; build it inside the test instead.
    private const string LoneSurrogateMarker = "<lone surrogate>";

    public static TheoryData<string, string?, string?> BadUsers => new()
    {
        { "null name", null, "+100" },
        { "empty name", "", "+100" },
        { "blank name", "   ", "+100" },
        { "long name", Long101, "+100" },
        { "lone surrogate", LoneSurrogateMarker, "+100" },
        { "null phone", "Ann", null },
        { "empty phone", "Ann", "" },
        { "blank phone", "Ann", "\t" },
        { "long phone", "Ann", Long21 },
    };

    public static TheoryData<string, string?, string?> BadDrivers => new()
    {
        { "null name", null, "KA-1" },
        { "blank name", " ", "KA-1" },
        { "long name", Long101, "KA-1" },
        { "null vehicle", "Ravi", null },
        { "empty vehicle", "Ravi", "" },
        { "long vehicle", "Ravi", Long21 },
    };

    public static TheoryData<decimal> BadFares => new() { -0.01m, 1.001m, 0.005m, 100_000_000m, 99_999_999.991m, decimal.MaxValue };

    public static TheoryData<string?> BadTransactionIds => new() { null, "", "  ", new string('t', 101), " padded", "padded " };

    [Theory]
    [MemberData(nameof(BadUsers))]
    public async Task Malformed_users_are_refused(string because, string? name, string? phone)
    {
        var before = await db.ChecksumAsync();
        name = name == LoneSurrogateMarker ? "Ann\ud800" : name;
        var ex = await Assert.ThrowsAnyAsync<ArgumentException>(() => db.Users.CreateAsync(name!, phone!));
        Assert.False(string.IsNullOrEmpty(ex.ParamName), because);
        Assert.Equal(before, await db.ChecksumAsync());
    }

    [Theory]
    [MemberData(nameof(BadDrivers))]
    public async Task Malformed_drivers_are_refused(string because, string? name, string? vehicle)
    {
        var before = await db.ChecksumAsync();
        var ex = await Assert.ThrowsAnyAsync<ArgumentException>(() => db.Drivers.CreateAsync(name!, vehicle!));
        Assert.False(string.IsNullOrEmpty(ex.ParamName), because);
        Assert.Equal(before, await db.ChecksumAsync());
    }

    [Fact]
    public async Task Maximum_lengths_are_counted_in_characters_and_accepted()
    {
        // 100 and 20 characters, some outside the Basic Multilingual Plane (two UTF-16 units each).
        var name = string.Concat(Enumerable.Repeat("😀", 50)) + new string('é', 50);
        var phone = string.Concat(Enumerable.Repeat("𝟙", 10)) + "0123456789";
        var user = await db.Users.CreateAsync(name, phone);
        Assert.Equal(user, await db.Users.GetAsync(user.Id));
        var driver = await db.Drivers.CreateAsync(name, new string('V', 20));
        Assert.Equal(driver, await db.Drivers.GetAsync(driver.Id));
    }

    [Fact]
    public async Task A_duplicate_phone_is_a_typed_business_error()
    {
        var phone = db.NextPhone();
        await db.Users.CreateAsync("First", phone);
        var before = await db.ChecksumAsync();
        await Assert.ThrowsAsync<DuplicatePhoneException>(() => db.Users.CreateAsync("Second", phone));
        Assert.Equal(before, await db.ChecksumAsync());
    }

    [Theory]
    [MemberData(nameof(BadFares))]
    public async Task Malformed_fares_are_refused(decimal fare)
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var before = await db.ChecksumAsync();
        await Assert.ThrowsAnyAsync<ArgumentException>(() => db.Booking.BookAsync(user.Id, driver.Id, fare));
        Assert.Equal(before, await db.ChecksumAsync());
    }

    [Fact]
    public async Task Extreme_valid_fares_round_trip_exactly()
    {
        foreach (var fare in new[] { 0m, 0.01m, 99_999_999.99m, 12.30m })
        {
            var user = await db.NewUserAsync();
            var driver = await db.NewDriverAsync();
            var ride = await db.Booking.BookAsync(user.Id, driver.Id, fare);
            Assert.Equal(fare, (await db.Rides.GetAsync(ride.Id))!.Fare);
            await db.Booking.CancelAsync(ride.Id);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(long.MinValue)]
    public async Task Non_positive_ids_are_refused(long id)
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var before = await db.ChecksumAsync();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Booking.BookAsync(id, driver.Id, 1m));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Booking.BookAsync(user.Id, id, 1m));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Booking.AcceptAsync(id, driver.Id));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Booking.AcceptAsync(1, id));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Booking.CompleteAsync(id));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Booking.CancelAsync(id));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Payments.RecordAsync(id, "txn", 1m));
        Assert.Equal(before, await db.ChecksumAsync());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(101)]
    public async Task Out_of_range_limits_are_refused(int limit)
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Rides.GetLatestForUserAsync(1, limit));
        if (limit <= 0)
        {
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Rides.GetTopDriversAsync(limit));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Drivers.GetAvailableAsync(limit));
        }
    }

    [Theory]
    [MemberData(nameof(BadTransactionIds))]
    public async Task Malformed_transaction_ids_are_refused(string? transactionId)
    {
        var before = await db.ChecksumAsync();
        await Assert.ThrowsAnyAsync<ArgumentException>(() => db.Payments.RecordAsync(1, transactionId!, 1m));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => db.Payments.SetStatusAsync(transactionId!, PaymentStatus.Succeeded));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => db.Payments.GetByTransactionIdAsync(transactionId!));
        Assert.Equal(before, await db.ChecksumAsync());
    }

    [Fact]
    public async Task Malformed_amounts_and_statuses_are_refused()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => db.Payments.RecordAsync(1, "txn", -1m));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => db.Payments.RecordAsync(1, "txn", 1.234m));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => db.Payments.SetStatusAsync("txn", (PaymentStatus)42));
    }

    [Fact]
    public async Task Strings_that_look_like_sql_are_stored_and_read_back_verbatim()
    {
        const string name = "Robert'); DROP TABLE rides;--";
        const string phone = "1' OR '1'='1";
        const string vehicle = "\\'; --\"`";
        const string transactionId = "x'; UPDATE payments SET amount = 0; -- @rb_driver_taken";

        var user = await db.Users.CreateAsync(name, phone);
        var driver = await db.Drivers.CreateAsync(name, vehicle);
        Assert.Equal((name, phone), ((await db.Users.GetAsync(user.Id))!.Name, (await db.Users.GetAsync(user.Id))!.Phone));
        Assert.Equal(vehicle, (await db.Drivers.GetAsync(driver.Id))!.VehicleNumber);

        var ride = await db.Booking.BookAsync(user.Id, driver.Id, 5m);
        await db.Booking.AcceptAsync(ride.Id, driver.Id);
        await db.Booking.CompleteAsync(ride.Id);
        var payment = await db.Payments.RecordAsync(ride.Id, transactionId, 5m);
        Assert.Equal(transactionId, (await db.Payments.GetByTransactionIdAsync(transactionId))!.TransactionId);
        Assert.Equal(payment.Payment, (await db.Payments.RecordAsync(ride.Id, transactionId, 5m)).Payment);
        Assert.NotNull(await db.Rides.GetAsync(ride.Id));
    }

    [Fact]
    public async Task Cancellation_is_honoured_before_anything_is_written()
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        var before = await db.ChecksumAsync();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => db.Booking.BookAsync(user.Id, driver.Id, 1m, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => db.Users.CreateAsync("x", db.NextPhone(), cancelled.Token));
        Assert.Equal(before, await db.ChecksumAsync());
    }
}
