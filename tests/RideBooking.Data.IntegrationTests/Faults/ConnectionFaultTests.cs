using Dapper;
using MySqlConnector;
using RideBooking.Data.Internal;

namespace RideBooking.Data.IntegrationTests.Faults;

/// <summary>Stale and lost connections, failed rollbacks, lock waits past the timeout and an exhausted pool, on a dedicated server.</summary>
[Collection(FaultTestGroup.Name)]
public sealed class ConnectionFaultTests(FaultServerFixture fixture) : IClassFixture<FaultServerFixture>
{
    private Testing.RideBookingTestServer Server => fixture.Server;

    private static async Task<(User User, Driver Driver)> SeedAsync(FaultServices services) =>
        (await services.Users.CreateAsync("Rider", Outside.NextPhone()), await services.Drivers.CreateAsync("Driver", "KA-1"));

    [Fact]
    public async Task Pooled_connections_made_stale_by_a_restart_are_retried_on_new_connections_invisibly()
    {
        await using var services = new FaultServices(Server.ConnectionString);
        const int Callers = 8;
        var seeds = new List<(User User, Driver Driver)>();
        for (var i = 0; i < Callers; i++)
        {
            seeds.Add(await SeedAsync(services));
        }

        await WarmPoolAsync(services, seeds);
        await Server.RestartAsync();

        // Reads, autocommit writes and bookings alike, each on a stale pooled connection: no caller sees an error.
        var results = await Task.WhenAll(seeds.Select(async (s, i) => (i % 3) switch
        {
            0 => (object?)await services.Users.GetAsync(s.User.Id),
            1 => await services.Drivers.CreateAsync("After restart", "KA-2"),
            _ => await services.Booking.BookAsync(s.User.Id, s.Driver.Id, 12.50m),
        }));
        Assert.All(results, Assert.NotNull);
        Assert.True(services.Retries("connection_failure") + services.Retries("unknown_commit") > 0, "the calls were expected to meet stale connections");
        await CrossShardInvariants.AssertAllAsync([Server.ConnectionString]);
    }

    [Fact]
    public async Task Sessions_closed_by_wait_timeout_are_retried_on_new_connections_invisibly()
    {
        await Outside.SetGlobalAsync(Server, "wait_timeout", 1);
        try
        {
            await using var services = new FaultServices(Server.ConnectionString);
            var seeds = new List<(User User, Driver Driver)>();
            for (var i = 0; i < 6; i++)
            {
                seeds.Add(await SeedAsync(services));
            }

            var pooled = await WarmPoolAsync(services, seeds);
            // Wait until the server has closed the idle sessions (seen from outside), not for a fixed time.
            for (var i = 0; i < 100 && await Outside.OpenSessionsAsync(Server, pooled) > 0; i++)
            {
                await Task.Delay(100);
            }

            Assert.Equal(0, await Outside.OpenSessionsAsync(Server, pooled));
            var rides = await Task.WhenAll(seeds.Select(s => services.Booking.BookAsync(s.User.Id, s.Driver.Id, 9m)));
            var users = await Task.WhenAll(seeds.Select(s => services.Users.GetAsync(s.User.Id)));
            Assert.Equal(seeds.Count, rides.Length);
            Assert.All(users, Assert.NotNull);
            Assert.True(services.Retries("connection_failure") > 0);
        }
        finally
        {
            await Outside.SetGlobalAsync(Server, "wait_timeout", 28800);
        }

        await CrossShardInvariants.AssertAllAsync([Server.ConnectionString]);
    }

    [Fact]
    public async Task A_connection_whose_rollback_failed_never_returns_its_open_transaction_to_the_pool()
    {
        await using (var setup = await Server.OpenAsync())
        {
            await setup.ExecuteAsync("CREATE TABLE IF NOT EXISTS fault_probe (id INT NOT NULL PRIMARY KEY) ENGINE = InnoDB; DELETE FROM fault_probe");
        }

        // One pooled connection: the next unit gets the same physical session unless the library destroyed it.
        var builder = new MySqlConnectionStringBuilder(Server.ConnectionString) { MaximumPoolSize = 1 };
        await using var services = new FaultServices(builder.ConnectionString);
        var runner = services.Runner;
        // The rollback fails with a server error while the session stays alive, its transaction open.
        runner.RollbackStatement = "ROLLBACK_THAT_FAILS";
        var firstSession = 0;
        await Assert.ThrowsAsync<InvalidRideStateException>(() => runner.RunAsync<int>("LeftoverProbe", transactional: true, async (unit, ct) =>
        {
            firstSession = unit.Connection.ServerThread;
            await unit.CreateCommand("INSERT INTO fault_probe (id) VALUES (1)").ExecuteAsync(ct);
            throw new InvalidRideStateException("refused after writing");
        }, CancellationToken.None));

        runner.RollbackStatement = "ROLLBACK";
        var secondSession = await runner.RunAsync("NextCaller", transactional: true, async (unit, ct) =>
        {
            // START TRANSACTION on a session with a transaction still open would commit the leftover row.
            await unit.CreateCommand("INSERT INTO fault_probe (id) VALUES (2)").ExecuteAsync(ct);
            return unit.Connection.ServerThread;
        }, CancellationToken.None);

        Assert.NotEqual(firstSession, secondSession);
        await using var check = await Server.OpenAsync();
        Assert.Equal(new[] { 2 }, (await check.QueryAsync<int>("SELECT id FROM fault_probe ORDER BY id")).ToArray());

        // The ended session's transaction is rolled back by the server after the session is gone: it disappears from
        // innodb_trx once that rollback finished (it never commits: the row check above).
        var open = await Outside.OpenTransactionsAsync(Server);
        for (var wait = 0; wait < 200 && open > 0; wait++)
        {
            await Task.Delay(50);
            open = await Outside.OpenTransactionsAsync(Server);
        }

        Assert.Equal(0, open);
        Assert.Equal(new[] { 2 }, (await check.QueryAsync<int>("SELECT id FROM fault_probe ORDER BY id")).ToArray());
    }

    [Fact]
    public async Task A_row_lock_held_past_the_lock_wait_timeout_ends_in_the_typed_error_after_bounded_retries_and_nothing_is_written()
    {
        await Outside.SetGlobalAsync(Server, "innodb_lock_wait_timeout", 1);
        try
        {
            await using var services = new FaultServices(Server.ConnectionString, o => o.MaxTransactionRetries = 2);
            var (user, driver) = await SeedAsync(services);

            await using var holder = await Server.OpenAsync();
            await using var holding = await holder.BeginTransactionAsync();
            await holder.ExecuteAsync("SELECT id FROM drivers WHERE id = @Id FOR UPDATE", new { driver.Id }, holding);

            var ex = await Assert.ThrowsAsync<RideBookingInfrastructureException>(() => services.Booking.BookAsync(user.Id, driver.Id, 10m));
            Assert.Equal(1205, ex.ErrorNumber);
            Assert.True(ex.IsTransient);
            Assert.Equal("BookRide", ex.Operation);
            Assert.IsType<MySqlException>(ex.InnerException);
            Assert.Equal(2, services.Retries("lock_wait_timeout"));
            Assert.DoesNotContain("root", ex.Message, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("127.0.0.1", ex.Message, StringComparison.Ordinal);
            await holding.RollbackAsync();

            await using var check = await Server.OpenAsync();
            Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides WHERE user_id = @Id", new { user.Id }));
            Assert.True(await check.ExecuteScalarAsync<bool>("SELECT available FROM drivers WHERE id = @Id", new { driver.Id }));
        }
        finally
        {
            await Outside.SetGlobalAsync(Server, "innodb_lock_wait_timeout", 50);
        }
    }

    [Fact]
    public async Task When_the_pool_is_exhausted_callers_queue_and_finish()
    {
        var builder = new MySqlConnectionStringBuilder(Server.ConnectionString) { MaximumPoolSize = 2 };
        await using var services = new FaultServices(builder.ConnectionString);
        var seeds = new List<(User User, Driver Driver)>();
        for (var i = 0; i < 24; i++)
        {
            seeds.Add(await SeedAsync(services));
        }

        var rides = await Task.WhenAll(seeds.Select(s => services.Booking.BookAsync(s.User.Id, s.Driver.Id, 7m)));
        Assert.Equal(seeds.Count, rides.Select(r => r.Id).Distinct().Count());
        await CrossShardInvariants.AssertAllAsync([Server.ConnectionString]);
    }

    [Fact]
    public async Task When_no_pooled_connection_frees_up_within_the_connect_timeout_the_caller_gets_the_typed_timeout()
    {
        var builder = new MySqlConnectionStringBuilder(Server.ConnectionString) { MaximumPoolSize = 1, ConnectionTimeout = 1 };
        await using var services = new FaultServices(builder.ConnectionString);
        var (user, driver) = await SeedAsync(services);

        // The one pooled connection is held by a booking that waits for a row lock held from outside.
        await using var holder = await Server.OpenAsync();
        await using var holding = await holder.BeginTransactionAsync();
        await holder.ExecuteAsync("SELECT id FROM drivers WHERE id = @Id FOR UPDATE", new { driver.Id }, holding);
        var blocked = services.Booking.BookAsync(user.Id, driver.Id, 5m);
        for (var i = 0; i < 200 && await Outside.BusySessionsAsync(Server) == 0; i++)
        {
            await Task.Delay(25);
        }

        var ex = await Assert.ThrowsAsync<ConnectionPoolTimeoutException>(() => services.Users.GetAsync(user.Id));
        Assert.True(ex.IsTransient);
        Assert.Equal("GetUser", ex.Operation);
        Assert.Contains("pooled connection", ex.Message, StringComparison.Ordinal);
        var write = await Assert.ThrowsAsync<ConnectionPoolTimeoutException>(() => services.Drivers.CreateAsync("Queued", "KA-3"));
        Assert.Equal("CreateDriver", write.Operation);

        await holding.RollbackAsync();
        Assert.Equal(user.Id, (await blocked).UserId);
    }

    [Fact]
    public async Task A_booking_replay_waits_for_the_lost_session_still_committing_its_ride_instead_of_refusing_it()
    {
        await using var services = new FaultServices(Server.ConnectionString);
        var (user, driver) = await SeedAsync(services);
        await using var lostSession = await Server.OpenAsync();
        Task? commitLater = null;
        var hooked = 0;
        services.Runner.BeforeCommit = async (connection, committing, ct) =>
        {
            if (Interlocked.Increment(ref hooked) != 1)
            {
                return;
            }

            // The client loses the connection; on the server, the same ride is still being committed by the lost session
            // (played here by another session, which holds the driver and the new ride uncommitted).
            await using (var killer = await Server.OpenAsync(ct))
            {
                await killer.ExecuteAsync("KILL @Id", new { Id = connection.ServerThread });
            }

            var p = committing!.Parameters;
            await lostSession.ExecuteAsync("START TRANSACTION; UPDATE drivers SET available = FALSE WHERE id = @DriverId; " +
                "INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at) VALUES (@RideId, @UserId, @DriverId, 'REQUESTED', @Fare, @Now, @Now)",
                new { RideId = p["@RideId"].Value, UserId = p["@UserId"].Value, DriverId = p["@DriverId"].Value, Fare = p["@Fare"].Value, Now = p["@Now"].Value });
            commitLater = Task.Run(
                async () =>
            {
                // Commit once the replay waits on a lock (of the ride with the fix; of the driver without it).
                await using var observer = await Server.OpenAsync();
                for (var i = 0; i < 400 && await observer.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'") == 0; i++)
                {
                    await Task.Delay(25);
                }

                await lostSession.ExecuteAsync("COMMIT");
            },
                CancellationToken.None);
        };

        var ride = await services.Booking.BookAsync(user.Id, driver.Id, 15m);
        await commitLater!;
        await using var check = await Server.OpenAsync();
        Assert.Equal(1, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides WHERE user_id = @Id", new { user.Id }));
        Assert.Equal(ride.Id, await check.ExecuteScalarAsync<long>("SELECT id FROM rides WHERE user_id = @Id", new { user.Id }));
    }

    [Fact]
    public async Task User_creation_and_payment_whose_commit_was_lost_are_replayed_to_their_own_result()
    {
        await using var services = new FaultServices(Server.ConnectionString);
        var (user, driver) = await SeedAsync(services);
        var ride = await services.Booking.BookAsync(user.Id, driver.Id, 30m);
        await services.Booking.AcceptAsync(ride.Id, driver.Id);
        await services.Booking.CompleteAsync(ride.Id);

        var armed = true;
        services.Runner.BeforeCommit = async (connection, committing, ct) =>
        {
            if (!armed || committing is null)
            {
                return;
            }

            armed = false;
            // The batch with COMMIT runs on the server, then the connection is gone before the client hears back.
            await using (var sameBatch = committing.Clone())
            {
                await sameBatch.ExecuteNonQueryAsync(ct);
            }

            await using var killer = await Server.OpenAsync(ct);
            await killer.ExecuteAsync("KILL @Id", new { Id = connection.ServerThread });
        };

        var phone = Outside.NextPhone();
        var created = await services.Users.CreateAsync("Lost commit", phone);
        Assert.False(armed);
        Assert.Equal(phone, created.Phone);

        armed = true;
        var paid = await services.Payments.RecordAsync(ride.Id, "txn-lost-" + Guid.NewGuid().ToString("N"), 30m);
        Assert.False(armed);
        Assert.Equal(ride.Id, paid.Payment.RideId);

        await using var check = await Server.OpenAsync();
        Assert.Equal(1, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users WHERE phone = @phone", new { phone }));
        Assert.Equal(1, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM payments WHERE ride_id = @Id", new { ride.Id }));
        Assert.True(services.Retries("unknown_commit") >= 2);
    }

    private static async Task<int[]> WarmPoolAsync(FaultServices services, List<(User User, Driver Driver)> seeds)
    {
        var sessions = new System.Collections.Concurrent.ConcurrentBag<int>();
        // Concurrent calls open as many pooled connections as there are callers.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = seeds.Select(async s =>
        {
            await gate.Task;
            await services.Runner.RunAsync("Warm", transactional: false, async (unit, ct) =>
            {
                sessions.Add(unit.Connection.ServerThread);
                await unit.CreateCommand("DO SLEEP(0.2)").ExecuteAsync(ct);
                return 0;
            }, CancellationToken.None);
        }).ToList();
        gate.SetResult();
        await Task.WhenAll(calls);
        return [.. sessions.Distinct()];
    }
}
