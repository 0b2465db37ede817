using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Internal;

namespace RideBooking.Data.IntegrationTests;

/// <summary>Real deadlocks and lock wait timeouts on the server, and a COMMIT whose outcome is unknown.</summary>
public sealed class RetryTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        // Test-only tables: created by the administrator, and open to the application account the library runs as.
        await using var connection = await db.OpenAdminAsync();
        await connection.ExecuteAsync($"""
            CREATE TABLE IF NOT EXISTS retry_probe (id INT NOT NULL PRIMARY KEY, v INT NOT NULL) ENGINE = InnoDB;
            CREATE TABLE IF NOT EXISTS retry_ballast (id INT NOT NULL PRIMARY KEY) ENGINE = InnoDB;
            GRANT SELECT, INSERT, UPDATE, DELETE ON retry_probe TO '{db.ApplicationUser}'@'%';
            GRANT SELECT, INSERT, UPDATE, DELETE ON retry_ballast TO '{db.ApplicationUser}'@'%';
            """);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task ResetProbeAsync()
    {
        await using var connection = await db.OpenAsync();
        await connection.ExecuteAsync("DELETE FROM retry_probe; DELETE FROM retry_ballast; INSERT INTO retry_probe (id, v) VALUES (1, 0), (2, 0)");
    }

    [Fact]
    public async Task A_deadlock_victim_is_retried_as_a_whole_and_succeeds()
    {
        await ResetProbeAsync();
        var logs = new CapturingLoggerProvider();
        await using var services = DatabaseFixture.BuildServices(db.ConnectionString, logs: logs);
        var runner = services.GetRequiredService<TransactionRunner>();

        await using var other = await db.OpenAsync();
        await using var otherTx = await other.BeginTransactionAsync();
        // Make the other transaction the heavier one, so InnoDB picks the runner's unit as the victim.
        await other.ExecuteAsync("INSERT INTO retry_ballast (id) SELECT seq FROM (SELECT a.n * 10 + b.n AS seq FROM (SELECT 0 n UNION SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6 UNION SELECT 7 UNION SELECT 8 UNION SELECT 9) a, (SELECT 0 n UNION SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6 UNION SELECT 7 UNION SELECT 8 UNION SELECT 9) b) s", transaction: otherTx);
        await other.ExecuteAsync("UPDATE retry_probe SET v = v + 100 WHERE id = 2", transaction: otherTx);

        var firstLockTaken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = 0;
        var unit = runner.RunAsync("DeadlockProbe", transactional: true, async (u, ct) =>
        {
            Interlocked.Increment(ref attempts);
            await u.CreateCommand("UPDATE retry_probe SET v = v + 1 WHERE id = 1").ExecuteAsync(ct);
            firstLockTaken.TrySetResult();
            await u.CreateCommand("UPDATE retry_probe SET v = v + 1 WHERE id = 2").ExecuteAsync(ct);
            return u.Attempt;
        }, CancellationToken.None);

        await firstLockTaken.Task;
        // Wait until the unit is blocked on row 2, then close the cycle by asking for row 1.
        // information_schema.innodb_trx needs the PROCESS privilege: the administrator watches.
        await using (var observer = await db.OpenAdminAsync())
        {
            await WaitForLockWaitAsync(observer, unit);
        }

        await other.ExecuteAsync("UPDATE retry_probe SET v = v + 100 WHERE id = 1", transaction: otherTx);
        await otherTx.CommitAsync();

        var finalAttempt = await unit;
        Assert.Equal(2, finalAttempt);
        Assert.Equal(2, attempts);
        await using var check = await db.OpenAsync();
        // Both of the other transaction's updates and exactly one run of the unit are in: nothing was applied twice.
        Assert.Equal(new[] { 101, 101 }, (await check.QueryAsync<int>("SELECT v FROM retry_probe ORDER BY id")).ToArray());

        // The retry was logged as a warning that names the operation and the error, not the connection.
        var retry = Assert.Single(logs.Entries, e => e.Category.EndsWith("TransactionRunner", StringComparison.Ordinal));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, retry.Level);
        Assert.Contains("DeadlockProbe", retry.Message, StringComparison.Ordinal);
        Assert.Contains("deadlock", retry.Message, StringComparison.Ordinal);
        Assert.Contains("1213", retry.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(db.Database.DatabaseName, retry.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("User ID", retry.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_lock_wait_timeout_is_rolled_back_and_retried()
    {
        await ResetProbeAsync();
        await using var services = DatabaseFixture.BuildServices(db.ConnectionString);
        var runner = services.GetRequiredService<TransactionRunner>();

        await using var holder = await db.OpenAsync();
        await using var holderTx = await holder.BeginTransactionAsync();
        await holder.ExecuteAsync("UPDATE retry_probe SET v = v + 100 WHERE id = 2", transaction: holderTx);

        var attempts = 0;
        var result = await runner.RunAsync("LockWaitProbe", transactional: true, async (u, ct) =>
        {
            if (Interlocked.Increment(ref attempts) == 2)
            {
                // The first attempt timed out; let go of the lock so the retry can get it.
                await holderTx.CommitAsync(ct);
            }

            await u.CreateCommand("SET SESSION innodb_lock_wait_timeout = 1").ExecuteAsync(ct);
            // Written before the wait: must be rolled back with the timed-out attempt, not kept.
            await u.CreateCommand("UPDATE retry_probe SET v = v + 1 WHERE id = 1").ExecuteAsync(ct);
            await u.CreateCommand("UPDATE retry_probe SET v = v + 1 WHERE id = 2").ExecuteAsync(ct);
            return u.Attempt;
        }, CancellationToken.None);

        Assert.Equal(2, result);
        await using var check = await db.OpenAsync();
        Assert.Equal(new[] { 1, 101 }, (await check.QueryAsync<int>("SELECT v FROM retry_probe ORDER BY id")).ToArray());
    }

    [Fact]
    public async Task Retries_are_bounded_by_the_options()
    {
        await ResetProbeAsync();
        await using var services = DatabaseFixture.BuildServices(db.ConnectionString, o => o.MaxTransactionRetries = 1);
        var runner = services.GetRequiredService<TransactionRunner>();

        await using var holder = await db.OpenAsync();
        await using var holderTx = await holder.BeginTransactionAsync();
        await holder.ExecuteAsync("UPDATE retry_probe SET v = v + 100 WHERE id = 2", transaction: holderTx);

        var attempts = 0;
        var ex = await Assert.ThrowsAsync<RideBookingInfrastructureException>(() => runner.RunAsync("LockWaitProbe", transactional: true, async (u, ct) =>
        {
            Interlocked.Increment(ref attempts);
            await u.CreateCommand("SET SESSION innodb_lock_wait_timeout = 1; UPDATE retry_probe SET v = v + 1 WHERE id = 2").ExecuteAsync(ct);
            return 0;
        }, CancellationToken.None));

        // Spent retries leave as the typed infrastructure error, never the driver's own exception.
        Assert.Equal((int)MySqlErrorCode.LockWaitTimeout, ex.ErrorNumber);
        Assert.True(ex.IsTransient);
        Assert.Equal("LockWaitProbe", ex.Operation);
        Assert.Equal(2, attempts);
    }

    [Fact]
    public async Task Non_transient_errors_and_business_errors_are_raised_at_once()
    {
        await using var services = DatabaseFixture.BuildServices(db.ConnectionString);
        var runner = services.GetRequiredService<TransactionRunner>();

        var attempts = 0;
        var syntax = await Assert.ThrowsAsync<RideBookingInfrastructureException>(() => runner.RunAsync("SyntaxProbe", transactional: true, async (u, ct) =>
        {
            Interlocked.Increment(ref attempts);
            return await u.CreateCommand("UPDATE no_such_table SET x = 1").ExecuteAsync(ct);
        }, CancellationToken.None));
        // The application account has no grant on a table outside the schema: the server answers "access denied"
        // (1142) without telling whether the table exists. Neither error is retried.
        Assert.Equal((int)MySqlErrorCode.TableAccessDenied, syntax.ErrorNumber);
        Assert.False(syntax.IsTransient);
        Assert.Equal(1, attempts);

        attempts = 0;
        await Assert.ThrowsAsync<DriverUnavailableException>(() => runner.RunAsync<int>("BusinessProbe", transactional: true, (u, ct) =>
        {
            Interlocked.Increment(ref attempts);
            throw new DriverUnavailableException("busy");
        }, CancellationToken.None));
        Assert.Equal(1, attempts);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_booking_whose_connection_dies_at_commit_is_replayed_by_its_ride_id_and_never_doubled(bool commitReachedServer)
    {
        var user = await db.NewUserAsync();
        var driver = await db.NewDriverAsync();
        await using var services = DatabaseFixture.BuildServices(db.ConnectionString);
        var runner = services.GetRequiredService<TransactionRunner>();
        var booking = services.GetRequiredService<IRideBookingService>();

        // The connection dies around the first COMMIT: after the server committed (the client never
        // hears back), or before COMMIT reached it (the first attempt is rolled back).
        var hooked = 0;
        runner.BeforeCommit = async (connection, committingCommand, ct) =>
        {
            if (Interlocked.Increment(ref hooked) == 1)
            {
                if (commitReachedServer)
                {
                    // The batch that carries COMMIT runs on the server...
                    await using var sameBatch = committingCommand!.Clone();
                    await sameBatch.ExecuteNonQueryAsync(ct);
                }

                // ...and the connection is gone before the client hears back.
                await KillAsync(connection.ServerThread);
            }
        };

        var ride = await booking.BookAsync(user.Id, driver.Id, 20m);

        // Replayed once; after a committed first attempt the replay finds the ride and commits nothing new.
        Assert.Equal(2, hooked);
        await using var check = await db.OpenAsync();
        Assert.Equal(1, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides WHERE user_id = @Id", new { user.Id }));
        Assert.Equal(ride, await db.Rides.GetAsync(ride.Id));
        Assert.False((await db.Drivers.GetAsync(driver.Id))!.Available);
    }

    private async Task KillAsync(int serverThread)
    {
        await using var killer = await db.OpenAsync();
        await killer.ExecuteAsync($"KILL {serverThread}");
    }

    /// <summary>
    /// Waits until a transaction waits for a row lock. No timing is asserted: the bound only keeps a broken test from
    /// hanging (on a busy machine the unit's second statement can take seconds to be sent).
    /// </summary>
    private static async Task WaitForLockWaitAsync(MySqlConnection observer, Task unit)
    {
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        while (await observer.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'") == 0)
        {
            if (unit.IsCompleted)
            {
                await unit;
                throw new InvalidOperationException("The unit finished without waiting for the second row.");
            }

            if (stopwatch.Elapsed > TimeSpan.FromSeconds(120))
            {
                throw new TimeoutException("The unit never blocked on the second row.");
            }

            await Task.Delay(25);
        }
    }
}
