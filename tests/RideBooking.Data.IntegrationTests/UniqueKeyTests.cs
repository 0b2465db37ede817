using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Testing;
using RideBooking.Data.Internal;
using Xunit.Abstractions;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// Phones and provider transaction ids unique over 4 real primaries (with a replica each): claims on the key's home shard,
/// look-ups by the key alone, and the recovery of writers that died between their steps, checked from outside with SQL.
/// </summary>
#pragma warning disable CA1001 // xunit disposes the services through IAsyncLifetime.DisposeAsync.
public sealed class UniqueKeyTests(ClusterFixture fixture, ITestOutputHelper output) : IClassFixture<ClusterFixture>, IAsyncLifetime
#pragma warning restore CA1001
{
    private const int Shards = ClusterFixture.ShardCount;

    private ShardedServices _db = null!;

    public Task InitializeAsync()
    {
        // Recovery repairs work older than 1 s, so the crash tests wait 1.1 s before they run it.
        _db = new ShardedServices(fixture.Cluster, o => o.RecoveryGracePeriod = TimeSpan.FromSeconds(1));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private KeyClaims Claims => _db.Services.GetRequiredService<KeyClaims>();

    private IRideBookingRecovery Recovery => _db.Services.GetRequiredService<IRideBookingRecovery>();

    [Fact]
    public async Task A_phone_taken_on_one_shard_is_refused_on_every_other_and_nothing_is_written()
    {
        for (var home = 0; home < Shards; home++)
        {
            var phone = PhoneHomedOn(home);
            var first = await CreateUserOnShardAsync((home + 1) % Shards, phone);
            var before = await ChecksumAllAsync();

            // The same phone from users that would land on every shard (the home's own included: one local transaction),
            // and the same phone as the database compares it (trailing spaces are ignored by the collation).
            for (var shard = 0; shard < Shards; shard++)
            {
                await Assert.ThrowsAsync<DuplicatePhoneException>(() => CreateUserOnShardAsync(shard, phone));
            }

            await Assert.ThrowsAsync<DuplicatePhoneException>(() => _db.Users.CreateAsync("Padded", phone + "  "));
            Assert.Equal(before, await ChecksumAllAsync());
            Assert.Equal(first, await _db.Users.GetByPhoneAsync(phone));
        }

        await AssertKeysConsistentAsync();
    }

    [Fact]
    public async Task Concurrent_creates_of_one_phone_over_all_shards_make_exactly_one_user()
    {
        var phone = ShardedServices.NextPhone();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(async () =>
        {
            try
            {
                return (User?)await _db.Users.CreateAsync("Racer " + i, phone);
            }
            catch (DuplicatePhoneException)
            {
                return null;
            }
        })));

        var winner = Assert.Single(outcomes, u => u is not null)!;
        var holders = new List<long>();
        foreach (var shard in fixture.Cluster.Shards)
        {
            await using var connection = new MySqlConnection(shard.Primary);
            holders.AddRange(await connection.QueryAsync<long>("SELECT id FROM users WHERE phone = @phone", new { phone }));
        }

        Assert.Equal([winner.Id], holders);
        Assert.Equal(winner, await _db.Users.GetByPhoneAsync(phone));
        await AssertKeysConsistentAsync();
    }

    [Fact]
    public async Task GetByPhoneAsync_finds_users_on_every_shard_whatever_the_phones_home()
    {
        for (var userShard = 0; userShard < Shards; userShard++)
        {
            for (var home = 0; home < Shards; home++)
            {
                var user = await CreateUserOnShardAsync(userShard, PhoneHomedOn(home));
                Assert.Equal(userShard, _db.Resolver.PhysicalShardOf(user.Id));
                Assert.Equal(user, await _db.Users.GetByPhoneAsync(user.Phone));
                Assert.Equal([home], await ShardsHoldingClaimAsync("phone_claims", "phone", user.Phone));
            }
        }

        Assert.Null(await _db.Users.GetByPhoneAsync(ShardedServices.NextPhone()));
        await Assert.ThrowsAsync<ArgumentException>(() => _db.Users.GetByPhoneAsync(" "));
    }

    [Fact]
    public async Task A_transaction_id_recorded_for_a_ride_on_one_shard_is_refused_for_a_ride_on_another()
    {
        // Both rides away from the id's home, and the second ride on the home itself (claim and payment in one transaction).
        foreach (var (shardA, shardB, home) in new[] { (0, 1, 2), (2, 3, 3), (3, 0, 3) })
        {
            var rideA = await CompletedRideOnShardAsync(shardA);
            var rideB = await CompletedRideOnShardAsync(shardB);
            var txn = TransactionIdHomedOn(home);

            var recorded = await _db.Payments.RecordAsync(rideA.Id, txn, rideA.Fare);
            Assert.False(recorded.AlreadyRecorded);
            Assert.Equal([shardA], await _db.ShardsHoldingAsync("payments", recorded.Payment.Id));
            Assert.Equal([home], await ShardsHoldingClaimAsync("transaction_claims", "transaction_id", txn));
            var before = await ChecksumAllAsync();

            await Assert.ThrowsAsync<PaymentConflictException>(() => _db.Payments.RecordAsync(rideB.Id, txn, rideB.Fare));
            Assert.Equal(before, await ChecksumAllAsync());

            var replay = await _db.Payments.RecordAsync(rideA.Id, txn, rideA.Fare);
            Assert.True(replay.AlreadyRecorded);
            Assert.Equal(recorded.Payment, replay.Payment);
            Assert.Equal(before, await ChecksumAllAsync());
            Assert.Equal(recorded.Payment, await _db.Payments.GetByTransactionIdAsync(txn));
        }

        await AssertKeysConsistentAsync();
    }

    [Fact]
    public async Task SetStatusAsync_by_transaction_id_alone_touches_only_the_claims_shard_and_the_payments_shard()
    {
        for (var paymentShard = 0; paymentShard < Shards; paymentShard++)
        {
            foreach (var home in new[] { (paymentShard + 1) % Shards, paymentShard })
            {
                var ride = await CompletedRideOnShardAsync(paymentShard);
                var txn = TransactionIdHomedOn(home);
                var recorded = await _db.Payments.RecordAsync(ride.Id, txn, ride.Fare);

                var trips = await RoundTripTests.RecordAsync(() => _db.Payments.SetStatusAsync(txn, PaymentStatus.Succeeded));

                var touched = trips.Select(Endpoint).ToHashSet();
                output.WriteLine($"payment on {paymentShard}, claim on {home}: {trips.Count} round trips on {string.Join(", ", touched)}");
                Assert.Equal(new HashSet<string> { PrimaryEndpoint(home), PrimaryEndpoint(paymentShard) }, touched);
                Assert.Equal(2, trips.Count);
                Assert.Equal(PaymentStatus.Succeeded, (await _db.Payments.GetByTransactionIdAsync(txn))!.Status);
                Assert.Equal(recorded.Payment.Id, (await _db.Payments.GetByTransactionIdAsync(txn))!.Id);
            }
        }

        await Assert.ThrowsAsync<EntityNotFoundException>(() => _db.Payments.SetStatusAsync("txn-never-" + Guid.NewGuid().ToString("N"), PaymentStatus.Failed));
        Assert.Null(await _db.Payments.GetByTransactionIdAsync("txn-never-" + Guid.NewGuid().ToString("N")));
    }

    [Fact]
    public async Task A_user_whose_writer_died_after_its_claim_is_repaired_and_the_phone_is_free_again()
    {
        var phone = PhoneHomedOn(1);
        Claims.AfterStep = step => step == "CreateUser:claimed" ? throw new ProcessDied() : Task.CompletedTask;
        await Assert.ThrowsAsync<ProcessDied>(() => CreateUserOnShardAsync(2, phone));
        Claims.AfterStep = null;

        var orphan = await ClaimOfPhoneAsync(1, phone);
        Assert.NotNull(orphan);
        Assert.Empty(await _db.ShardsHoldingAsync("users", orphan.Value.UserId));
        Assert.Null(await _db.Users.GetByPhoneAsync(phone));
        // Until recovery, the claim holds the phone.
        await Assert.ThrowsAsync<DuplicatePhoneException>(() => CreateUserOnShardAsync(3, phone));

        await Task.Delay(TimeSpan.FromSeconds(1.1));
        Assert.True(await Recovery.RunAsync() >= 1);

        Assert.Null(await ClaimOfPhoneAsync(1, phone));
        Assert.Equal("ABORTED", await DecisionAsync(orphan.Value.UserId));
        await AssertKeysConsistentAsync();
        var user = await CreateUserOnShardAsync(2, phone);
        Assert.Equal(user, await _db.Users.GetByPhoneAsync(phone));
        await AssertKeysConsistentAsync();
    }

    [Fact]
    public async Task A_user_whose_writer_died_after_its_row_keeps_its_claim_and_recovery_confirms_it()
    {
        var phone = PhoneHomedOn(3);
        Claims.AfterStep = step => step == "CreateUser:written" ? throw new ProcessDied() : Task.CompletedTask;
        await Assert.ThrowsAsync<ProcessDied>(() => CreateUserOnShardAsync(0, phone));
        Claims.AfterStep = null;

        var claim = await ClaimOfPhoneAsync(3, phone);
        Assert.NotNull(claim);
        Assert.False(claim.Value.Confirmed);
        Assert.Equal([0], await _db.ShardsHoldingAsync("users", claim.Value.UserId));

        await Task.Delay(TimeSpan.FromSeconds(1.1));
        await Recovery.RunAsync();

        Assert.Equal((claim.Value.UserId, true), await ClaimOfPhoneAsync(3, phone));
        Assert.Equal("COMMITTED", await DecisionAsync(claim.Value.UserId));
        Assert.Equal(claim.Value.UserId, (await _db.Users.GetByPhoneAsync(phone))!.Id);
        await Assert.ThrowsAsync<DuplicatePhoneException>(() => CreateUserOnShardAsync(1, phone));
        await AssertKeysConsistentAsync();
    }

    [Fact]
    public async Task A_late_user_writer_after_recovery_fenced_its_id_fails_and_leaves_nothing()
    {
        var phone = PhoneHomedOn(0);
        var claimed = new TaskCompletionSource();
        var resume = new TaskCompletionSource();
        Claims.AfterStep = async step =>
        {
            if (step == "CreateUser:claimed")
            {
                claimed.SetResult();
                await resume.Task;
            }
        };
        var late = CreateUserOnShardAsync(1, phone);
        await claimed.Task;
        var claim = (await ClaimOfPhoneAsync(0, phone))!.Value;

        await Task.Delay(TimeSpan.FromSeconds(1.1));
        Assert.True(await Recovery.RunAsync() >= 1);
        resume.SetResult();

        var failed = await Assert.ThrowsAsync<RideBookingInfrastructureException>(() => late);
        Claims.AfterStep = null;
        Assert.Equal("CreateUser", failed.Operation);
        Assert.Contains("recovery", failed.Message, StringComparison.Ordinal);
        Assert.Empty(await _db.ShardsHoldingAsync("users", claim.UserId));
        Assert.Null(await ClaimOfPhoneAsync(0, phone));
        Assert.Equal("ABORTED", await DecisionAsync(claim.UserId));
        await AssertKeysConsistentAsync();
        Assert.Equal(phone, (await CreateUserOnShardAsync(1, phone)).Phone);
    }

    [Fact]
    public async Task A_payment_whose_writer_died_after_its_claim_is_repaired_and_the_transaction_id_is_free_again()
    {
        var ride = await CompletedRideOnShardAsync(2);
        var txn = TransactionIdHomedOn(0);
        Claims.AfterStep = step => step == "RecordPayment:claimed" ? throw new ProcessDied() : Task.CompletedTask;
        await Assert.ThrowsAsync<ProcessDied>(() => _db.Payments.RecordAsync(ride.Id, txn, ride.Fare));
        Claims.AfterStep = null;

        var orphan = (await ClaimOfTransactionAsync(0, txn))!.Value;
        Assert.Empty(await _db.ShardsHoldingAsync("payments", orphan.PaymentId));
        Assert.Null(await _db.Payments.GetByTransactionIdAsync(txn));
        await Assert.ThrowsAsync<EntityNotFoundException>(() => _db.Payments.SetStatusAsync(txn, PaymentStatus.Succeeded));

        await Task.Delay(TimeSpan.FromSeconds(1.1));
        Assert.True(await Recovery.RunAsync() >= 1);

        Assert.Null(await ClaimOfTransactionAsync(0, txn));
        Assert.Equal("ABORTED", await DecisionAsync(orphan.PaymentId));
        await AssertKeysConsistentAsync();
        var recorded = await _db.Payments.RecordAsync(ride.Id, txn, ride.Fare);
        Assert.False(recorded.AlreadyRecorded);
        Assert.Equal([2], await _db.ShardsHoldingAsync("payments", recorded.Payment.Id));
        await AssertKeysConsistentAsync();
    }

    [Fact]
    public async Task A_retry_after_a_writer_died_after_its_claim_completes_that_payment()
    {
        var ride = await CompletedRideOnShardAsync(1);
        var txn = TransactionIdHomedOn(3);
        Claims.AfterStep = step => step == "RecordPayment:claimed" ? throw new ProcessDied() : Task.CompletedTask;
        await Assert.ThrowsAsync<ProcessDied>(() => _db.Payments.RecordAsync(ride.Id, txn, ride.Fare));
        Claims.AfterStep = null;
        var claim = (await ClaimOfTransactionAsync(3, txn))!.Value;

        // The caller retries with the same arguments before any recovery: the claim's payment id is taken over.
        var retried = await _db.Payments.RecordAsync(ride.Id, txn, ride.Fare);
        Assert.True(retried.AlreadyRecorded);
        Assert.Equal(claim.PaymentId, retried.Payment.Id);
        await Assert.ThrowsAsync<PaymentConflictException>(() => _db.Payments.RecordAsync(ride.Id, txn, ride.Fare + 1));

        await Task.Delay(TimeSpan.FromSeconds(1.1));
        await Recovery.RunAsync();
        Assert.Equal((claim.PaymentId, true), await ClaimOfTransactionAsync(3, txn));
        await AssertKeysConsistentAsync();
    }

    [Fact]
    public async Task A_payment_whose_writer_died_after_its_row_keeps_its_claim_and_recovery_confirms_it()
    {
        var ride = await CompletedRideOnShardAsync(3);
        var txn = TransactionIdHomedOn(1);
        Claims.AfterStep = step => step == "RecordPayment:written" ? throw new ProcessDied() : Task.CompletedTask;
        await Assert.ThrowsAsync<ProcessDied>(() => _db.Payments.RecordAsync(ride.Id, txn, ride.Fare));
        Claims.AfterStep = null;

        var claim = (await ClaimOfTransactionAsync(1, txn))!.Value;
        Assert.False(claim.Confirmed);
        Assert.Equal(claim.PaymentId, (await _db.Payments.SetStatusAsync(txn, PaymentStatus.Succeeded)).Id);

        await Task.Delay(TimeSpan.FromSeconds(1.1));
        await Recovery.RunAsync();

        Assert.Equal((claim.PaymentId, true), await ClaimOfTransactionAsync(1, txn));
        Assert.Equal("COMMITTED", await DecisionAsync(claim.PaymentId));
        await AssertKeysConsistentAsync();
    }

    [Fact]
    public async Task A_late_payment_writer_after_recovery_fenced_its_id_fails_and_leaves_nothing()
    {
        var ride = await CompletedRideOnShardAsync(0);
        var txn = TransactionIdHomedOn(2);
        var claimed = new TaskCompletionSource();
        var resume = new TaskCompletionSource();
        Claims.AfterStep = async step =>
        {
            if (step == "RecordPayment:claimed")
            {
                claimed.SetResult();
                await resume.Task;
            }
        };
        var late = _db.Payments.RecordAsync(ride.Id, txn, ride.Fare);
        await claimed.Task;
        var claim = (await ClaimOfTransactionAsync(2, txn))!.Value;

        await Task.Delay(TimeSpan.FromSeconds(1.1));
        Assert.True(await Recovery.RunAsync() >= 1);
        resume.SetResult();

        var failed = await Assert.ThrowsAsync<RideBookingInfrastructureException>(() => late);
        Claims.AfterStep = null;
        Assert.Equal("RecordPayment", failed.Operation);
        Assert.Empty(await _db.ShardsHoldingAsync("payments", claim.PaymentId));
        Assert.Empty(await _db.ShardsHoldingAsync("payments", ride.Id, "ride_id"));
        Assert.Null(await ClaimOfTransactionAsync(2, txn));
        await AssertKeysConsistentAsync();
        Assert.False((await _db.Payments.RecordAsync(ride.Id, txn, ride.Fare)).AlreadyRecorded);
    }

    [Fact]
    public async Task A_user_whose_row_step_fails_releases_its_claim()
    {
        // A user written without a claim (as before schema 007) holds the phone on shard 2 only: a new user there is
        // refused by the old UNIQUE key after the claim on the home shard was taken, and that claim is released.
        var phone = PhoneHomedOn(0);
        await using (var connection = new MySqlConnection(fixture.Cluster.Shards[2].Primary))
        {
            await connection.ExecuteAsync("INSERT INTO users (id, name, phone, created_at) VALUES (@id, 'Legacy', @phone, UTC_TIMESTAMP(6))", new { id = ((DateTime.UtcNow.Ticks & 0xFFFF_FFFF_FFFF) << 8) | 2, phone });
        }

        try
        {
            await Assert.ThrowsAsync<DuplicatePhoneException>(() => CreateUserOnShardAsync(2, phone));
            Assert.Empty(await ShardsHoldingClaimAsync("phone_claims", "phone", phone));
        }
        finally
        {
            // The application account deletes no user: the administrator removes the legacy row.
            await using var connection = new MySqlConnection(fixture.Cluster.ShardsFor(RideBookingTestAccount.Administrator)[2].Primary);
            await connection.ExecuteAsync("DELETE FROM users WHERE phone = @phone", new { phone });
        }

        await AssertKeysConsistentAsync();
    }

    [Fact]
    public async Task A_payment_whose_row_step_is_refused_releases_its_claim()
    {
        var user = await CreateUserOnShardAsync(0, ShardedServices.NextPhone());
        var driver = await _db.NewDriverOnShardAsync(0);
        var requested = await _db.Booking.BookAsync(user.Id, driver.Id, 9m);
        var txn = TransactionIdHomedOn(1);

        await Assert.ThrowsAsync<InvalidRideStateException>(() => _db.Payments.RecordAsync(requested.Id, txn, 9m));
        Assert.Empty(await ShardsHoldingClaimAsync("transaction_claims", "transaction_id", txn));

        var unknownRide = (requested.Id & ~255L) | 2;
        await Assert.ThrowsAsync<EntityNotFoundException>(() => _db.Payments.RecordAsync(unknownRide, txn, 9m));
        Assert.Empty(await ShardsHoldingClaimAsync("transaction_claims", "transaction_id", txn));

        await _db.Booking.AcceptAsync(requested.Id, driver.Id);
        await _db.Booking.CompleteAsync(requested.Id);
        Assert.False((await _db.Payments.RecordAsync(requested.Id, txn, 9m)).AlreadyRecorded);
        await AssertKeysConsistentAsync();
    }

    [Fact]
    public async Task Recovery_run_by_two_processes_at_once_repairs_each_claim_once()
    {
        Claims.AfterStep = step => step == "CreateUser:claimed" ? throw new ProcessDied() : Task.CompletedTask;
        var phones = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var phone = PhoneHomedOn(i);
            phones.Add(phone);
            await Assert.ThrowsAsync<ProcessDied>(() => CreateUserOnShardAsync(i + 1, phone));
        }

        Claims.AfterStep = null;
        await using var other = new ShardedServices(fixture.Cluster, o => o.RecoveryGracePeriod = TimeSpan.FromSeconds(1));
        await Task.Delay(TimeSpan.FromSeconds(1.1));

        var repairs = await Task.WhenAll(
            Recovery.RunAsync(),
            other.Services.GetRequiredService<IRideBookingRecovery>().RunAsync());

        Assert.Equal(3, repairs.Sum());
        foreach (var phone in phones)
        {
            Assert.Empty(await ShardsHoldingClaimAsync("phone_claims", "phone", phone));
        }

        await AssertKeysConsistentAsync();
    }

    [Fact]
    public async Task The_server_computes_the_same_homes_as_the_library()
    {
        await using var connection = new MySqlConnection(fixture.Cluster.Shards[0].Primary);
        foreach (var txn in new[] { "txn-1", "TXN-1", "pay_é_🚕", TransactionIdHomedOn(3) })
        {
            Assert.Equal(KeyHome.OfTransactionId(txn), await connection.ExecuteScalarAsync<int>("SELECT CRC32(CONVERT(@txn USING utf8mb4)) & 255", new { txn }));
        }

        foreach (var phone in new[] { "+1 (555) 01-00", ShardedServices.NextPhone(), "+44 20 7946 0000" })
        {
            Assert.Equal(KeyHome.OfPhone(phone), await connection.ExecuteScalarAsync<int>("SELECT CRC32(REGEXP_REPLACE(@phone, '[^0-9]', '')) & 255", new { phone }));
        }
    }

    /// <summary>The exception of a process that died at a step: the library lets it through and undoes nothing.</summary>
    [Fact]
    public async Task A_ride_paid_across_shards_is_payable_again_after_a_failed_attempt_and_only_one_attempt_is_live()
    {
        // The ride on shard 0; the failed attempt's transaction id homed on shard 1 (claim on another shard), the retry's
        // on shard 2, and a third attempt homed on the ride's own shard (one local transaction) while the retry is live.
        var ride = await CompletedRideOnShardAsync(0);
        var failed = TransactionIdHomedOn(1);
        var retry = TransactionIdHomedOn(2);
        var third = TransactionIdHomedOn(0);
        await _db.Payments.RecordAsync(ride.Id, failed, ride.Fare);
        await _db.Payments.SetStatusAsync(failed, PaymentStatus.Failed);

        var retried = await _db.Payments.RecordAsync(ride.Id, retry, ride.Fare);
        Assert.False(retried.AlreadyRecorded);
        await Assert.ThrowsAsync<PaymentConflictException>(() => _db.Payments.RecordAsync(ride.Id, third, ride.Fare));
        await _db.Payments.SetStatusAsync(retry, PaymentStatus.Succeeded);

        Assert.Equal(PaymentStatus.Failed, (await _db.Payments.GetByTransactionIdAsync(failed))!.Status);
        Assert.Equal(PaymentStatus.Succeeded, (await _db.Payments.GetByTransactionIdAsync(retry))!.Status);
        Assert.Null(await _db.Payments.GetByTransactionIdAsync(third));
        Assert.Empty(await ShardsHoldingClaimAsync("transaction_claims", "transaction_id", third));
        await AssertKeysConsistentAsync();
    }

    private sealed class ProcessDied : Exception
    {
    }

    private static string PhoneHomedOn(int shard)
    {
        while (true)
        {
            var phone = ShardedServices.NextPhone();
            if (KeyHome.OfPhone(phone) % Shards == shard)
            {
                return phone;
            }
        }
    }

    private static string TransactionIdHomedOn(int shard)
    {
        while (true)
        {
            var txn = "txn-key-" + Guid.NewGuid().ToString("N");
            if (KeyHome.OfTransactionId(txn) % Shards == shard)
            {
                return txn;
            }
        }
    }

    /// <summary>Creates a user that lands on <paramref name="shard"/>: the round robin of this provider is advanced to it first.</summary>
    private Task<User> CreateUserOnShardAsync(int shard, string phone)
    {
        var ids = _db.Services.GetRequiredService<IdGenerator>();
        while ((ids.NextSpreadShard() + 1) % Shards != shard)
        {
        }

        return _db.Users.CreateAsync("Keyed " + shard, phone);
    }

    private async Task<Ride> CompletedRideOnShardAsync(int shard)
    {
        var user = await CreateUserOnShardAsync(shard, ShardedServices.NextPhone());
        var driver = await _db.NewDriverOnShardAsync(shard);
        var ride = await _db.Booking.BookAsync(user.Id, driver.Id, 20m + shard);
        await _db.Booking.AcceptAsync(ride.Id, driver.Id);
        return await _db.Booking.CompleteAsync(ride.Id);
    }

    private async Task<List<int>> ShardsHoldingClaimAsync(string table, string column, string key)
    {
        var holding = new List<int>();
        for (var shard = 0; shard < Shards; shard++)
        {
            await using var connection = new MySqlConnection(fixture.Cluster.Shards[shard].Primary);
            if (await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table} WHERE {column} = @key", new { key }) > 0)
            {
                holding.Add(shard);
            }
        }

        return holding;
    }

    private async Task<(long UserId, bool Confirmed)?> ClaimOfPhoneAsync(int shard, string phone)
    {
        await using var connection = new MySqlConnection(fixture.Cluster.Shards[shard].Primary);
        var rows = (await connection.QueryAsync<(long, bool)>("SELECT user_id, confirmed FROM phone_claims WHERE phone = @phone", new { phone })).ToList();
        return rows.Count == 0 ? null : rows[0];
    }

    private async Task<(long PaymentId, bool Confirmed)?> ClaimOfTransactionAsync(int shard, string txn)
    {
        await using var connection = new MySqlConnection(fixture.Cluster.Shards[shard].Primary);
        var rows = (await connection.QueryAsync<(long, bool)>("SELECT payment_id, confirmed FROM transaction_claims WHERE transaction_id = @txn", new { txn })).ToList();
        return rows.Count == 0 ? null : rows[0];
    }

    private async Task<string?> DecisionAsync(long id)
    {
        await using var connection = new MySqlConnection(fixture.Cluster.Shards[(int)(id & 255) % Shards].Primary);
        return await connection.ExecuteScalarAsync<string?>("SELECT outcome FROM cross_shard_decisions WHERE id = @id", new { id });
    }

    /// <summary>CHECKSUM TABLE of the data and the key tables on every primary: equal before and after means nothing was written.</summary>
    private async Task<string> ChecksumAllAsync()
    {
        var sums = new List<string>();
        foreach (var shard in fixture.Cluster.Shards)
        {
            await using var connection = new MySqlConnection(shard.Primary);
            var rows = await connection.QueryAsync("CHECKSUM TABLE users, drivers, rides, payments, driver_earnings, phone_claims, transaction_claims, cross_shard_decisions");
            sums.Add(string.Join(";", rows.Select(r => $"{r.Table}={r.Checksum}")));
        }

        return string.Join(" | ", sums);
    }

    /// <summary>
    /// From outside, over all shards: every user has its phone's claim on the phone's home shard and every claim its user;
    /// every payment has its transaction id's claim on the id's home shard and every claim its payment.
    /// </summary>
    private async Task AssertKeysConsistentAsync()
    {
        var users = new List<(int Shard, long Id, string Phone)>();
        var phoneClaims = new List<(int Shard, string Phone, long UserId, int LogicalShard)>();
        var payments = new List<(int Shard, long Id, string Txn, long RideId, decimal Amount)>();
        var txnClaims = new List<(int Shard, string Txn, long PaymentId, long RideId, decimal Amount, int LogicalShard)>();
        for (var shard = 0; shard < Shards; shard++)
        {
            await using var connection = new MySqlConnection(fixture.Cluster.Shards[shard].Primary);
            var s = shard;
            users.AddRange((await connection.QueryAsync<(long, string)>("SELECT id, phone FROM users")).Select(r => (s, r.Item1, r.Item2)));
            phoneClaims.AddRange((await connection.QueryAsync<(string, long, int)>("SELECT phone, user_id, logical_shard FROM phone_claims")).Select(r => (s, r.Item1, r.Item2, r.Item3)));
            payments.AddRange((await connection.QueryAsync<(long, string, long, decimal)>("SELECT id, transaction_id, ride_id, amount FROM payments")).Select(r => (s, r.Item1, r.Item2, r.Item3, r.Item4)));
            txnClaims.AddRange((await connection.QueryAsync<(string, long, long, decimal, int)>("SELECT transaction_id, payment_id, ride_id, amount, logical_shard FROM transaction_claims")).Select(r => (s, r.Item1, r.Item2, r.Item3, r.Item4, r.Item5)));
        }

        var claimsByPhone = phoneClaims.ToLookup(c => c.Phone, StringComparer.Ordinal);
        foreach (var user in users)
        {
            var claim = Assert.Single(claimsByPhone[user.Phone]);
            Assert.Equal(user.Id, claim.UserId);
            Assert.Equal(KeyHome.OfPhone(user.Phone), claim.LogicalShard);
            Assert.Equal(claim.LogicalShard % Shards, claim.Shard);
        }

        Assert.All(phoneClaims, c => Assert.Contains(users, u => u.Id == c.UserId && u.Phone == c.Phone));

        var claimsByTxn = txnClaims.ToLookup(c => c.Txn, StringComparer.Ordinal);
        foreach (var payment in payments)
        {
            var claim = Assert.Single(claimsByTxn[payment.Txn]);
            Assert.Equal((payment.Id, payment.RideId, payment.Amount), (claim.PaymentId, claim.RideId, claim.Amount));
            Assert.Equal(KeyHome.OfTransactionId(payment.Txn), claim.LogicalShard);
            Assert.Equal(claim.LogicalShard % Shards, claim.Shard);
        }

        Assert.All(txnClaims, c => Assert.Contains(payments, p => p.Id == c.PaymentId && p.Txn == c.Txn));
    }

    private string PrimaryEndpoint(int shard)
    {
        // The test cluster's servers differ by port.
        return new MySqlConnectionStringBuilder(fixture.Cluster.Shards[shard].Primary).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The port of the server a command ran on, from MySqlConnector's activity tags.</summary>
    private static string Endpoint(Activity activity) =>
        Convert.ToString(activity.GetTagItem("server.port") ?? activity.GetTagItem("net.peer.port"), System.Globalization.CultureInfo.InvariantCulture) ?? "?";
}
