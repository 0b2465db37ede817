using Dapper;

namespace RideBooking.Data.IntegrationTests.Faults;

/// <summary>Thousands of calls cancelled at random moments: nothing half-written, no open transaction or busy session left.</summary>
[Collection(FaultTestGroup.Name)]
public sealed class CancellationTests(FaultServerFixture fixture) : IClassFixture<FaultServerFixture>
{
    private const int Calls = 3000;

    [Fact]
    public async Task Random_cancellations_during_book_complete_and_pay_leave_nothing_half_written_and_nothing_open()
    {
        var server = fixture.Server;
        await using var services = new FaultServices(server.ConnectionString);
        var pairs = new List<(User User, Driver Driver)>();
        for (var i = 0; i < 16; i++)
        {
            pairs.Add((await services.Users.CreateAsync("Cancelled rider", Outside.NextPhone()), await services.Drivers.CreateAsync("Cancelled driver", "KA-8")));
        }

        var cancelled = 0;
        var completed = 0;
        var unexpected = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var next = -1;
        async Task WorkAsync(int worker)
        {
            var (user, driver) = pairs[worker];
            var random = new Random(worker);
            while (Interlocked.Increment(ref next) < Calls)
            {
                using var cts = new CancellationTokenSource();
                // Anywhere from before the first round trip to after the last.
                cts.CancelAfter(TimeSpan.FromMicroseconds(random.Next(0, 4000)));
                try
                {
                    var ride = await services.Booking.BookAsync(user.Id, driver.Id, 10m, cts.Token);
                    await services.Booking.AcceptAsync(ride.Id, driver.Id, cts.Token);
                    await services.Booking.CompleteAsync(ride.Id, cts.Token);
                    await services.Payments.RecordAsync(ride.Id, "txn-" + Guid.NewGuid().ToString("N"), 10m, cts.Token);
                    Interlocked.Increment(ref completed);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref cancelled);
                }
                catch (Exception ex) when (ex is RideBookingException or RideBookingInfrastructureException)
                {
                    // Not an error of the test: a cancelled step left the pair mid-way; bring it back to rest below.
                }
                catch (Exception ex)
                {
                    unexpected.Enqueue($"{ex.GetType().Name}: {ex.Message}");
                }

                // Whatever the last call left active is cancelled (uncancellable), so the pair can book again.
                foreach (var active in (await services.Rides.GetLatestForUserAsync(user.Id, 3)).Where(r => r.Status is RideStatus.Requested or RideStatus.Accepted))
                {
                    await services.Booking.CancelAsync(active.Id);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, pairs.Count).Select(w => Task.Run(() => WorkAsync(w))));

        Assert.Empty(unexpected);
        Assert.True(cancelled > 0 && completed > 0, $"cancelled {cancelled}, completed {completed}");
        Assert.Equal(0, await Outside.OpenTransactionsAsync(server));
        Assert.Equal(0, await Outside.BusySessionsAsync(server));
        await CrossShardInvariants.AssertAllAsync([server.ConnectionString]);
        await using var check = await server.OpenAsync();
        // Every payment belongs to a completed ride.
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM payments p JOIN rides r ON r.id = p.ride_id WHERE r.status <> 'COMPLETED'"));
    }
}
