using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using Xunit.Abstractions;

namespace RideBooking.Data.IntegrationTests.Faults;

/// <summary>
/// The server restarted (SIGTERM) and crashed (SIGKILL) under 16 workers, lost commits while it is down, and every public
/// method against a stopped server: on a dedicated server, invariants checked from outside after each.
/// </summary>
[Collection(FaultTestGroup.Name)]
public sealed class ServerRestartTests(FaultServerFixture fixture, ITestOutputHelper output) : IClassFixture<FaultServerFixture>
{
    private const int Workers = 16;

    private Testing.RideBookingTestServer Server => fixture.Server;

    [Theory]
    [InlineData("SIGTERM")]
    [InlineData("SIGKILL")]
    public async Task Sixteen_workers_survive_a_server_restart_with_every_acknowledged_write_stored(string fault)
    {
        await using var services = new FaultServices(Server.ConnectionString, o => o.UnknownOutcomeWaitTimeout = TimeSpan.FromSeconds(60));
        var seeds = new List<(User User, Driver Driver)>();
        for (var i = 0; i < Workers; i++)
        {
            seeds.Add((await services.Users.CreateAsync("Storm rider", Outside.NextPhone()), await services.Drivers.CreateAsync("Storm driver", "KA-9")));
        }

        var clock = Stopwatch.StartNew();
        var serverBackAt = TimeSpan.MaxValue;
        var faultAt = TimeSpan.MaxValue;
        var firstSuccessAfterBack = TimeSpan.MaxValue;
        var errors = new ConcurrentDictionary<string, int>();
        var violations = new ConcurrentQueue<string>();
        var acknowledged = new ConcurrentBag<(long RideId, RideStatus Status, string? Payment)>();
        var createdUsers = new ConcurrentBag<long>();
        using var stop = new CancellationTokenSource();

        // One step until it succeeds: infrastructure errors are retried by the caller, as a host would; an unknown outcome
        // must name what resolves it; anything else is a violation.
        async Task<T> StepAsync<T>(string name, Func<Task<T>> step, Func<Exception, Task<T?>>? resolve = null)
            where T : class
        {
            for (var attempt = 0; ; attempt++)
            {
                var started = clock.Elapsed;
                try
                {
                    var result = await step();
                    if (started > serverBackAt && clock.Elapsed < firstSuccessAfterBack)
                    {
                        firstSuccessAfterBack = clock.Elapsed;
                    }

                    return result;
                }
                catch (RideBookingInfrastructureException ex) when (attempt < 600)
                {
                    errors.AddOrUpdate($"{name}: {ex.GetType().Name} {ex.ErrorNumber}", 1, (_, n) => n + 1);
                    if (started > serverBackAt)
                    {
                        violations.Enqueue($"{name} failed after the server was back: {ex.GetType().Name} {ex.Message}");
                    }

                    if (ex is CommitOutcomeUnknownException unknown && unknown.IdempotencyKey is null && unknown.EntityId is null && unknown.TransactionId is null)
                    {
                        violations.Enqueue($"{name}: an unknown outcome without a key to resolve it");
                    }

                    await Task.Delay(50);
                }
                catch (RideBookingException ex) when (resolve is not null && attempt > 0)
                {
                    // The earlier attempt of this step did commit (its outcome was unknown to this caller): resolved by its id.
                    if (await resolve(ex) is { } resolved)
                    {
                        return resolved;
                    }

                    violations.Enqueue($"{name}: {ex.GetType().Name}: {ex.Message}");
                    throw;
                }
                catch (Exception ex)
                {
                    violations.Enqueue($"{name}: {ex.GetType().Name}: {ex.Message}");
                    throw;
                }
            }
        }

        async Task<Ride?> RideIfAsync(long rideId, RideStatus status) =>
            await services.Rides.GetAsync(rideId) is { } ride && ride.Status == status ? ride : null;

        async Task WorkAsync(int worker)
        {
            var (user, driver) = seeds[worker];
            for (var round = 0; !stop.IsCancellationRequested; round++)
            {
                var key = $"w{worker}-r{round}-{Guid.NewGuid():N}";
                var ride = await StepAsync("BookAsync", () => services.Booking.BookAsync(user.Id, driver.Id, 10m + worker, key));
                acknowledged.Add((ride.Id, RideStatus.Requested, null));
                await StepAsync("AcceptAsync", () => services.Booking.AcceptAsync(ride.Id, driver.Id), _ => RideIfAsync(ride.Id, RideStatus.Accepted));
                acknowledged.Add((ride.Id, RideStatus.Accepted, null));
                await StepAsync("CompleteAsync", () => services.Booking.CompleteAsync(ride.Id), _ => RideIfAsync(ride.Id, RideStatus.Completed));
                acknowledged.Add((ride.Id, RideStatus.Completed, null));
                var transactionId = "txn-" + key;
                await StepAsync("RecordAsync", () => services.Payments.RecordAsync(ride.Id, transactionId, ride.Fare));
                await StepAsync("SetStatusAsync", () => services.Payments.SetStatusAsync(transactionId, PaymentStatus.Succeeded));
                acknowledged.Add((ride.Id, RideStatus.Completed, transactionId));
                var created = await StepAsync("CreateAsync", () => services.Users.CreateAsync("New rider", Outside.NextPhone(), "user-" + key));
                createdUsers.Add(created.Id);
            }
        }

        var work = Enumerable.Range(0, Workers).Select(w => Task.Run(() => WorkAsync(w))).ToList();
        await Task.Delay(TimeSpan.FromSeconds(2));
        faultAt = clock.Elapsed;
        if (fault == "SIGTERM")
        {
            await Server.RestartAsync();
        }
        else
        {
            await Server.CrashAndRestartAsync();
        }

        serverBackAt = clock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(3));
        await stop.CancelAsync();
        await Task.WhenAll(work);

        output.WriteLine($"{fault}: server down and back in {(serverBackAt - faultAt).TotalMilliseconds:F0} ms; first call started after it was back succeeded {(firstSuccessAfterBack - serverBackAt).TotalMilliseconds:F0} ms later; " +
            $"{acknowledged.Count(a => a.Payment is not null)} rides booked, completed and paid; retries: connection_failure {services.Retries("connection_failure")}, unknown_commit {services.Retries("unknown_commit")}");
        foreach (var (kind, count) in errors.OrderBy(e => e.Key))
        {
            output.WriteLine($"  while down: {kind} x{count}");
        }

        Assert.Empty(violations);
        Assert.NotEqual(TimeSpan.MaxValue, firstSuccessAfterBack);

        // Every acknowledged write is stored, from outside.
        await using var check = await Server.OpenAsync();
        var stored = (await check.QueryAsync<(long Id, string Status)>("SELECT id, status FROM rides")).ToDictionary(r => r.Id, r => r.Status);
        foreach (var (rideId, status, payment) in acknowledged)
        {
            Assert.True(stored.TryGetValue(rideId, out var now), $"acknowledged ride {rideId} is missing");
            Assert.True(Rank(now!) >= Rank(status.ToString().ToUpperInvariant()), $"ride {rideId} is {now}, acknowledged {status}");
            if (payment is not null)
            {
                Assert.Equal("SUCCEEDED", await check.ExecuteScalarAsync<string>("SELECT status FROM payments WHERE transaction_id = @payment", new { payment }));
            }
        }

        var users = (await check.QueryAsync<long>("SELECT id FROM users")).ToHashSet();
        Assert.All(createdUsers, id => Assert.Contains(id, users));
        await CrossShardInvariants.AssertAllAsync([Server.ConnectionString]);
        Assert.Equal(0, await Outside.OpenTransactionsAsync(Server));

        static int Rank(string status) => status switch { "REQUESTED" => 0, "ACCEPTED" => 1, _ => 2 };
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_commit_lost_while_the_server_is_down_is_resolved_by_waiting_or_by_the_key_in_the_typed_error(bool serverComesBackInTime)
    {
        await using var services = new FaultServices(Server.ConnectionString, o => o.UnknownOutcomeWaitTimeout = serverComesBackInTime ? TimeSpan.FromSeconds(60) : TimeSpan.FromSeconds(1));
        var user = await services.Users.CreateAsync("Down rider", Outside.NextPhone());
        var driver = await services.Drivers.CreateAsync("Down driver", "KA-5");
        Task? startAgain = null;
        var armed = true;
        services.Runner.BeforeCommit = async (connection, committing, ct) =>
        {
            if (!armed || committing is null)
            {
                return;
            }

            armed = false;
            // The booking commits on the server; then the server goes down before the client hears back.
            await using (var sameBatch = committing.Clone())
            {
                await sameBatch.ExecuteNonQueryAsync(ct);
            }

            await Server.StopAsync(ct);
            if (serverComesBackInTime)
            {
                startAgain = Task.Run(
                    async () =>
                    {
                        await Task.Delay(TimeSpan.FromSeconds(1));
                        await Server.StartAgainAsync();
                    },
                    CancellationToken.None);
            }
        };

        var key = "down-" + Guid.NewGuid().ToString("N");
        Ride ride;
        if (serverComesBackInTime)
        {
            ride = await services.Booking.BookAsync(user.Id, driver.Id, 22m, key);
            await startAgain!;
        }
        else
        {
            var unknown = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(() => services.Booking.BookAsync(user.Id, driver.Id, 22m, key));
            Assert.Equal(key, unknown.IdempotencyKey);
            Assert.NotNull(unknown.EntityId);
            Assert.True(unknown.IsTransient);
            Assert.Equal("BookRide", unknown.Operation);
            await Server.StartAgainAsync();

            // The caller resolves it with the key: the repeat returns the ride the lost commit stored, and books nothing new.
            ride = await services.Booking.BookAsync(user.Id, driver.Id, 22m, key);
            Assert.Equal(unknown.EntityId, ride.Id);
        }

        Assert.False(armed);
        await using var check = await Server.OpenAsync();
        Assert.Equal(1, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rides WHERE user_id = @Id", new { user.Id }));
        Assert.Equal(ride.Id, await check.ExecuteScalarAsync<long>("SELECT id FROM rides WHERE user_id = @Id", new { user.Id }));
        await CrossShardInvariants.AssertAllAsync([Server.ConnectionString]);
    }

    [Fact]
    public async Task No_public_method_lets_a_raw_driver_exception_escape_when_the_server_is_down()
    {
        await using var services = new FaultServices(Server.ConnectionString, o => o.UnknownOutcomeWaitTimeout = TimeSpan.FromSeconds(1));
        var user = await services.Users.CreateAsync("Raw rider", Outside.NextPhone());
        var driver = await services.Drivers.CreateAsync("Raw driver", "KA-6");
        var ride = await services.Booking.BookAsync(user.Id, driver.Id, 8m);
        await Server.StopAsync();
        try
        {
            Func<Task>[] calls =
            [
                () => services.Users.CreateAsync("x", Outside.NextPhone()),
                () => services.Users.CreateAsync("x", Outside.NextPhone(), "k-" + Guid.NewGuid().ToString("N")),
                () => services.Users.GetAsync(user.Id),
                () => services.Users.GetByPhoneAsync(user.Phone),
                () => services.Drivers.CreateAsync("x", "KA-7"),
                () => services.Drivers.CreateAsync("x", "KA-7", "k-" + Guid.NewGuid().ToString("N")),
                () => services.Drivers.GetAsync(driver.Id),
                () => services.Drivers.GetAvailableAsync(5),
                () => services.Rides.GetAsync(ride.Id),
                () => services.Rides.GetLatestForUserAsync(user.Id, 5),
                () => services.Rides.GetDriverEarningsAsync(),
                () => services.Rides.GetTopDriversAsync(5),
                () => services.Booking.BookAsync(user.Id, driver.Id, 8m),
                () => services.Booking.BookAsync(user.Id, driver.Id, 8m, "k-" + Guid.NewGuid().ToString("N")),
                () => services.Booking.AcceptAsync(ride.Id, driver.Id),
                () => services.Booking.CompleteAsync(ride.Id),
                () => services.Booking.CancelAsync(ride.Id),
                () => services.Payments.RecordAsync(ride.Id, "txn-down", 8m),
                () => services.Payments.SetStatusAsync("txn-down", PaymentStatus.Failed),
                () => services.Payments.GetByTransactionIdAsync("txn-down"),
            ];
            foreach (var call in calls)
            {
                var ex = await Assert.ThrowsAnyAsync<RideBookingInfrastructureException>(call);
                Assert.True(ex.IsTransient, ex.Message);
                Assert.NotNull(ex.Operation);
                Assert.DoesNotContain("root", ex.Message, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain(Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
                Assert.DoesNotContain(user.Phone, ex.Message, StringComparison.Ordinal);
            }
        }
        finally
        {
            await Server.StartAgainAsync();
        }

        // Back: the same services work again without a restart of the host.
        Assert.Equal(ride.Id, (await services.Rides.GetAsync(ride.Id))!.Id);
    }
}
