using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Testing;
using Xunit.Abstractions;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// A 60-second storm of cross-shard and same-shard work (book, accept, complete, cancel, pay, replays) over four
/// primaries while connections of the library are killed from outside at random; then one recovery pass, then every
/// invariant checked with plain SQL over all shards.
/// </summary>
public sealed class CrossShardStormTests(ClusterFixture fixture, ITestOutputHelper output) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Sixty_seconds_of_cross_shard_work_with_connections_killed_keeps_every_invariant_after_recovery()
    {
        await using var db = new ShardedServices(fixture.Cluster, o => o.RecoveryGracePeriod = TimeSpan.FromSeconds(2));
        var users = new List<User>();
        var drivers = new List<Driver>();
        for (var shard = 0; shard < 4; shard++)
        {
            for (var i = 0; i < 12; i++)
            {
                users.Add(await db.NewUserOnShardAsync(shard));
            }

            for (var i = 0; i < 4; i++)
            {
                drivers.Add(await db.NewDriverOnShardAsync(shard));
            }
        }

        long attempts = 0, booked = 0, crossShard = 0, accepted = 0, completed = 0, cancelled = 0, paid = 0, replays = 0, conflicts = 0, failures = 0, kills = 0;
        var failureKinds = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var violations = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();

        var killer = Task.Run(async () =>
        {
            var random = new Random(7);
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(random.Next(20, 120));
                // From outside: the administrator sees and kills the library's sessions.
                var shard = fixture.Cluster.ShardsFor(RideBookingTestAccount.Administrator)[random.Next(4)];
                await using var admin = new MySqlConnection(shard.Primary);
                var victims = (await admin.QueryAsync<long>(
                    "SELECT id FROM information_schema.processlist WHERE db = @db AND id <> CONNECTION_ID()",
                    new { db = fixture.Cluster.DatabaseName })).ToList();
                if (victims.Count > 0)
                {
                    try
                    {
                        // The id comes from the server's own process list.
                        await admin.ExecuteAsync($"KILL CONNECTION {victims[random.Next(victims.Count)]}");
                        Interlocked.Increment(ref kills);
                    }
                    catch (MySqlException)
                    {
                        // The connection ended by itself in the meantime.
                    }
                }
            }
        });

        await Task.WhenAll(Enumerable.Range(0, 32).Select(worker => Task.Run(async () =>
        {
            var random = new Random(1000 + worker);
            while (clock.Elapsed < Duration)
            {
                var user = users[random.Next(users.Count)];
                var driver = drivers[random.Next(drivers.Count)];
                Interlocked.Increment(ref attempts);
                try
                {
                    var ride = await db.Booking.BookAsync(user.Id, driver.Id, random.Next(1, 60));
                    Interlocked.Increment(ref booked);
                    if (db.Resolver.PhysicalShardOf(user.Id) != db.Resolver.PhysicalShardOf(driver.Id))
                    {
                        Interlocked.Increment(ref crossShard);
                    }

                    if (random.Next(5) == 0)
                    {
                        await db.Booking.CancelAsync(ride.Id);
                        Interlocked.Increment(ref cancelled);
                        continue;
                    }

                    await db.Booking.AcceptAsync(ride.Id, driver.Id);
                    Interlocked.Increment(ref accepted);
                    await db.Booking.CompleteAsync(ride.Id);
                    Interlocked.Increment(ref completed);
                    if (random.Next(4) == 0)
                    {
                        // A replayed completion changes nothing: it is refused (or fails with a killed connection).
                        Interlocked.Increment(ref replays);
                        try
                        {
                            await db.Booking.CompleteAsync(ride.Id);
                            violations.Enqueue($"ride {ride.Id} completed twice");
                        }
                        catch (InvalidRideStateException)
                        {
                        }
                    }

                    var txn = $"txn-storm-{ride.Id}";
                    await db.Payments.RecordAsync(ride.Id, txn, ride.Fare);
                    Interlocked.Increment(ref replays);
                    if (!(await db.Payments.RecordAsync(ride.Id, txn, ride.Fare)).AlreadyRecorded)
                    {
                        violations.Enqueue($"payment {txn} recorded twice");
                    }
                    await db.Payments.SetStatusAsync(txn, PaymentStatus.Succeeded);
                    Interlocked.Increment(ref paid);
                }
                catch (RideBookingException)
                {
                    Interlocked.Increment(ref conflicts);
                }
#pragma warning disable CA1031 // A killed connection surfaces as whatever the driver raises; the invariants below are what counts.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Interlocked.Increment(ref failures);
                    failureKinds.AddOrUpdate(ex.GetType().Name, 1, (_, n) => n + 1);
                }
            }
        })));
        await stop.CancelAsync();
        await killer;

        // Every interrupted operation is now older than the grace period: one pass repairs them all.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var repairs = await db.Services.GetRequiredService<IRideBookingRecovery>().RunAsync();
        var again = await db.Services.GetRequiredService<IRideBookingRecovery>().RunAsync();

        output.WriteLine($"storm {Duration.TotalSeconds:F0} s, 32 workers, 4 shards: {attempts} attempts, {booked} booked ({crossShard} across shards), {accepted} accepted, {completed} completed, {cancelled} cancelled, {paid} paid, {replays} replays, {conflicts} conflicts, {failures} failed by a killed connection ({string.Join(", ", failureKinds.Select(k => $"{k.Key} {k.Value}"))}), {kills} connections killed, {repairs} repairs by recovery ({again} on a second pass)");
        Assert.Empty(violations);
        Assert.True(crossShard > 0 && completed > 0 && kills > 0);
        Assert.Equal(0, again);
        await CrossShardInvariants.AssertAllAsync(fixture.Cluster);

        // No two payments share a transaction id, no two users a phone, over all shards.
        var transactionIds = new List<string>();
        var phones = new List<string>();
        foreach (var shard in fixture.Cluster.Shards)
        {
            await using var connection = new MySqlConnection(shard.Primary);
            transactionIds.AddRange(await connection.QueryAsync<string>("SELECT transaction_id FROM payments"));
            phones.AddRange(await connection.QueryAsync<string>("SELECT phone FROM users"));
        }

        Assert.Equal(transactionIds.Count, transactionIds.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(phones.Count, phones.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }
}
