using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Internal;
using RideBooking.Data.Testing;
using Xunit.Abstractions;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// Moving logical shards between real servers: a deployment grows from 1 to 2 and from 4 to 8 physical shards with rows
/// written through the library, and afterwards every row is found by its id, on exactly the server its placement names.
/// </summary>
public sealed class ReshardingTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// The library as a process of the deployment: by default the one that moves logical shards, connected as the account
    /// with schema/grants/03_resharding.sql; serving processes connect as the application account.
    /// </summary>
    private static ShardedServices Services(RideBookingTestCluster cluster, int baseCount, RideBookingTestAccount account = RideBookingTestAccount.Resharding) => new(cluster, o =>
    {
        cluster.Configure(o, account);
        o.ReplicaCheckInterval = TimeSpan.FromMilliseconds(100);
        o.BasePhysicalShardCount = baseCount;
        o.RecoveryGracePeriod = TimeSpan.FromSeconds(1);
        o.PlacementRefreshInterval = Refresh;
    });

    private static ShardMover Mover(ShardedServices db) => db.Services.GetRequiredService<ShardMover>();

    [Fact]
    public async Task Growing_from_one_server_to_two_moves_half_the_logical_shards_and_every_row_stays_reachable()
    {
        await using var cluster = await RideBookingTestCluster.CreateAsync(2, 0);
        await GrowAsync(cluster, oldCount: 1);
    }

    [Fact]
    public async Task Growing_from_four_servers_to_eight_moves_half_the_logical_shards_and_every_row_stays_reachable()
    {
        await using var cluster = await RideBookingTestCluster.CreateAsync(8, 0);
        await GrowAsync(cluster, oldCount: 4);
    }

    /// <summary>
    /// The library first runs on the first <paramref name="oldCount"/> servers (<c>BasePhysicalShardCount</c>), seeds rows
    /// through the library, then every logical shard whose <c>l % newCount</c> names a new server moves there.
    /// </summary>
    private async Task GrowAsync(RideBookingTestCluster cluster, int oldCount)
    {
        var newCount = cluster.Shards.Count;
        var world = new World();
        await using (var before = Services(cluster, oldCount))
        {
            await world.SeedAsync(before, users: 160);
            await world.CaptureAsync(before);
            var counts = await CountsAsync(cluster);
            AssertPlaced(counts, l => l % oldCount);
            Assert.All(Enumerable.Range(oldCount, newCount - oldCount), s => Assert.DoesNotContain(counts, c => c.Shard == s));
            world.TotalsBefore = Totals(counts);

            var mover = Mover(before);
            var stopwatch = Stopwatch.StartNew();
            for (var target = oldCount; target < newCount; target++)
            {
                var target0 = target;
                var logical = Enumerable.Range(0, 256).Where(l => l % newCount == target0).ToArray();
                var result = await mover.MoveManyAsync(logical, target);
                Assert.Equal(result.RowsCopied, result.RowsDeleted);
                output.WriteLine($"moved {logical.Length} logical shards to physical shard {target}: {result.RowsCopied} rows copied and deleted in {result.Elapsed.TotalMilliseconds:F0} ms");
            }

            output.WriteLine($"{oldCount} -> {newCount}: {world.TotalsBefore.Values.Sum()} rows, moves took {stopwatch.Elapsed.TotalMilliseconds:F0} ms in all (refresh interval {Refresh.TotalMilliseconds} ms, two waits per move)");

            // The process that moved routes by the new placements at once.
            await world.AssertReachableAsync(before);
        }

        // Every row on the server its placement names, and nowhere else; nothing lost or added.
        var after = await CountsAsync(cluster);
        AssertPlaced(after, l => l % newCount);
        Assert.Equal(world.TotalsBefore, Totals(after));

        // A process started after the move (same configuration) loads the placements and finds everything.
        await using var fresh = Services(cluster, oldCount);
        Assert.All(Enumerable.Range(0, 256), l => Assert.Equal(l % newCount, fresh.Services.GetRequiredService<ShardResolver>().Placements!.PhysicalShardOf(l)));
        await world.AssertReachableAsync(fresh);

        // New writes land where the placements say.
        for (var shard = 0; shard < newCount; shard++)
        {
            var user = await fresh.NewUserOnShardAsync(shard);
            var driver = await fresh.NewDriverOnShardAsync(shard);
            var ride = await fresh.Booking.BookAsync(user.Id, driver.Id, 9.5m);
            await fresh.Booking.AcceptAsync(ride.Id, driver.Id);
            await fresh.Booking.CompleteAsync(ride.Id);
            var paid = await fresh.Payments.RecordAsync(ride.Id, $"txn-new-{Guid.NewGuid():N}", 9.5m);
            await fresh.Payments.SetStatusAsync(paid.Payment.TransactionId, PaymentStatus.Succeeded);
            Assert.Equal([shard], await fresh.ShardsHoldingAsync("users", user.Id));
            Assert.Equal([shard], await fresh.ShardsHoldingAsync("drivers", driver.Id));
            Assert.Equal([shard], await fresh.ShardsHoldingAsync("rides", ride.Id));
            Assert.Equal([shard], await fresh.ShardsHoldingAsync("payments", paid.Payment.Id));
            Assert.Equal([shard], await fresh.ShardsHoldingAsync("driver_earnings", driver.Id, "driver_id"));
            Assert.Equal(RideStatus.Completed, (await fresh.Rides.GetAsync(ride.Id))!.Status);
        }

        AssertPlaced(await CountsAsync(cluster), l => l % newCount);
    }

    [Fact]
    public async Task A_write_to_a_moving_logical_shard_is_refused_with_a_retryable_error_and_writes_nothing()
    {
        await using var cluster = await RideBookingTestCluster.CreateAsync(2, 0);
        await using var mover = Services(cluster, 1);
        await using var other = Services(cluster, 1, RideBookingTestAccount.Application); // another process of the deployment, which moves nothing
        var user = await other.Users.CreateAsync("Moving rider", ShardedServices.NextPhone());
        var moving = other.Resolver.LogicalShardOf(user.Id);
        var driver = await NewDriverAsync(other, l => l != moving);
        var movingDriver = await NewDriverAsync(other, l => l == moving);
        var stayingUser = await NewUserAsync(other, l => l != moving && l != other.Resolver.LogicalShardOf(driver.Id));
        // A completed ride of a user that stays whose driver is on the moving logical shard, and one that is only accepted.
        var paidRide = await other.Booking.BookAsync(user.Id, driver.Id, 20m);
        await other.Booking.AcceptAsync(paidRide.Id, driver.Id);
        await other.Booking.CompleteAsync(paidRide.Id);
        var payment = (await other.Payments.RecordAsync(paidRide.Id, $"txn-moving-{Guid.NewGuid():N}", 20m)).Payment;
        var acrossRide = await other.Booking.BookAsync(stayingUser.Id, movingDriver.Id, 7m);
        await other.Booking.AcceptAsync(acrossRide.Id, movingDriver.Id);

        var marked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Mover(mover).AfterStep = async step =>
        {
            if (step == "marked")
            {
                marked.SetResult();
                await release.Task;
            }
        };
        var move = Mover(mover).MoveAsync(moving, 1);
        await marked.Task;
        var otherPlacements = other.Services.GetRequiredService<ShardResolver>().Placements!;
        await ShardedServices.WaitUntilAsync(() => otherPlacements.Current[moving] is { Moving: true }, "the other process to see the move", 10);

        var checksum = await other.ChecksumAllAsync();
        var refusals = new List<LogicalShardMovingException>
        {
            // The moving user's own ride (the ride's logical shard is the user's).
            await Assert.ThrowsAsync<LogicalShardMovingException>(() => other.Booking.CancelAsync(paidRide.Id)),
            await Assert.ThrowsAsync<LogicalShardMovingException>(() => other.Payments.RecordAsync(paidRide.Id, "txn-refused", 20m)),
            // A user that stays, whose driver moves: the driver's row would change.
            await Assert.ThrowsAsync<LogicalShardMovingException>(() => other.Booking.BookAsync(stayingUser.Id, movingDriver.Id, 5m)),
            await Assert.ThrowsAsync<LogicalShardMovingException>(() => other.Booking.CompleteAsync(acrossRide.Id)),
            // A payment found by transaction id names no logical shard: refused on the moving logical shard's servers.
            await Assert.ThrowsAsync<LogicalShardMovingException>(() => other.Payments.SetStatusAsync(payment.TransactionId, PaymentStatus.Succeeded)),
        };
        Assert.All(refusals, ex =>
        {
            Assert.True(ex.IsTransient);
            Assert.Equal(moving, ex.LogicalShard);
            Assert.IsAssignableFrom<RideBookingInfrastructureException>(ex);
            Assert.NotNull(ex.Operation);
        });
        Assert.Equal(checksum, await other.ChecksumAllAsync());

        // Reads still go to the source; writes to other logical shards go on.
        Assert.Equal(user, await other.Users.GetAsync(user.Id));
        Assert.Equal(RideStatus.Completed, (await other.Rides.GetAsync(paidRide.Id))!.Status);
        var unrelated = await NewUserAsync(other, l => l != moving);
        Assert.NotNull(await other.Users.GetAsync(unrelated.Id));

        release.SetResult();
        await move;

        // After the move the same calls succeed, on the new server.
        Assert.Equal([1], await other.ShardsHoldingAsync("users", user.Id));
        Assert.Equal(PaymentStatus.Succeeded, (await other.Payments.SetStatusAsync(payment.TransactionId, PaymentStatus.Succeeded)).Status);
        Assert.Equal([1], await other.ShardsHoldingAsync("payments", payment.Id));
        // The accepted ride stayed with its user on physical shard 0 while its driver moved to 1: finishing it is now a
        // cross-shard completion (the ride's shard, then the driver's new shard).
        Assert.Equal(RideStatus.Completed, (await other.Booking.CompleteAsync(acrossRide.Id)).Status);
        Assert.True((await other.Drivers.GetAsync(acrossRide.DriverId))!.Available);
        Assert.Contains(await other.Rides.GetDriverEarningsAsync(), e => e.DriverId == acrossRide.DriverId);
    }

    [Theory]
    [InlineData("copied")]
    [InlineData("verified")]
    [InlineData("switched")]
    public async Task A_move_interrupted_between_steps_is_finished_by_running_it_again(string failAfter)
    {
        await using var cluster = await RideBookingTestCluster.CreateAsync(2, 0);
        var world = new World();
        await using var db = Services(cluster, 1);
        await world.SeedAsync(db, users: 60);
        await world.CaptureAsync(db);
        world.TotalsBefore = Totals(await CountsAsync(cluster));
        var logical = Enumerable.Range(0, 256).Where(l => l % 2 == 1).ToArray();

        var mover = Mover(db);
        mover.BatchSize = 7; // many batches, so that keyset paging is exercised
        mover.AfterStep = step => step == failAfter ? throw new TimeoutException($"the process died after '{step}'") : Task.CompletedTask;
        // The process "dies": the failure reaches the caller as the typed infrastructure family, with its cause inside.
        Assert.IsType<TimeoutException>((await Assert.ThrowsAsync<RideBookingInfrastructureException>(() => mover.MoveManyAsync(logical, 1))).InnerException);

        var half = await CountsAsync(cluster);
        var placements = db.Services.GetRequiredService<ShardResolver>().Placements!;
        await placements.RefreshAsync(default);
        if (failAfter == "switched")
        {
            // Placed on the target; the source still has its old copies, which nothing routes to.
            Assert.All(logical, l => Assert.Equal(new Placement(1, null, 0, placements.Current[l]!.Version), placements.Current[l]));
            // Top drivers: a server's own top 10 can include old copies, which are left out, so it can miss a driver until they are deleted.
            await world.AssertReachableAsync(db, top: false);
        }
        else
        {
            // Still moving: copies on both servers, writes refused, reads served by the source.
            Assert.All(logical, l => Assert.Equal(1, placements.Current[l]!.MovingTo));
            var rideOfMoving = world.Rides.First(r => logical.Contains(db.Resolver.LogicalShardOf(r.Id)) && r.Status is RideStatus.Requested or RideStatus.Accepted);
            await Assert.ThrowsAsync<LogicalShardMovingException>(() => db.Booking.CancelAsync(rideOfMoving.Id));
            await world.AssertReachableAsync(db);
        }

        Assert.Contains(half, c => c.Shard == 1);
        Assert.Contains(half, c => c.Shard == 0 && c.Logical % 2 == 1);

        mover.AfterStep = null;
        var result = await mover.MoveManyAsync(logical, 1);
        output.WriteLine($"after '{failAfter}': re-run copied {result.RowsCopied} and deleted {result.RowsDeleted} rows in {result.Elapsed.TotalMilliseconds:F0} ms");
        var after = await CountsAsync(cluster);
        AssertPlaced(after, l => l % 2);
        Assert.Equal(world.TotalsBefore, Totals(after));
        Assert.All(logical, l => Assert.Equal(new Placement(1, null, null, placements.Current[l]!.Version), placements.Current[l]));
        await world.AssertReachableAsync(db);

        // Running it once more changes nothing.
        var again = await mover.MoveManyAsync(logical, 1);
        Assert.Equal((0L, 0L), (again.RowsCopied, again.RowsDeleted));
        Assert.Equal(world.TotalsBefore, Totals(await CountsAsync(cluster)));
    }

    [Fact]
    public async Task A_ride_booked_across_shards_and_completed_after_a_move_joined_them_releases_its_hold_and_pays_once()
    {
        await using var cluster = await RideBookingTestCluster.CreateAsync(2, 0);
        await using var db = Services(cluster, 2);
        var user = await NewUserAsync(db, l => l % 2 == 0);
        var driver = await NewDriverAsync(db, l => l % 2 == 1);
        var ride = await db.Booking.BookAsync(user.Id, driver.Id, 21m);
        await db.Booking.AcceptAsync(ride.Id, driver.Id);
        Assert.Equal([1], await db.ShardsHoldingAsync("driver_holds", driver.Id, "driver_id"));

        await Mover(db).MoveAsync(db.Resolver.LogicalShardOf(driver.Id), 0);
        Assert.Equal(0, db.Resolver.PhysicalShardOf(driver.Id));

        Assert.Equal(RideStatus.Completed, (await db.Booking.CompleteAsync(ride.Id)).Status);
        Assert.Empty(await db.ShardsHoldingAsync("driver_holds", driver.Id, "driver_id"));
        Assert.True((await db.Drivers.GetAsync(driver.Id))!.Available);
        Assert.Equal(21m, (await db.Rides.GetDriverEarningsAsync()).Single(e => e.DriverId == driver.Id).TotalEarnings);
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        Assert.Equal(0, await db.Services.GetRequiredService<IRideBookingRecovery>().RunAsync());
        Assert.Equal(21m, (await db.Rides.GetDriverEarningsAsync()).Single(e => e.DriverId == driver.Id).TotalEarnings);
    }

    [Fact]
    public async Task A_move_to_where_the_logical_shard_is_or_to_another_target_while_moving_is_refused_or_does_nothing()
    {
        await using var cluster = await RideBookingTestCluster.CreateAsync(2, 0);
        await using var db = Services(cluster, 2);
        var mover = Mover(db);
        var none = await mover.MoveAsync(4, 0);
        Assert.Equal((0L, 0L), (none.RowsCopied, none.RowsDeleted));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => mover.MoveAsync(256, 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => mover.MoveAsync(1, 2));

        mover.AfterStep = step => step == "marked" ? throw new TimeoutException("stop") : Task.CompletedTask;
        Assert.IsType<TimeoutException>((await Assert.ThrowsAsync<RideBookingInfrastructureException>(() => mover.MoveAsync(5, 0))).InnerException);
        mover.AfterStep = null;
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => mover.MoveAsync(5, 1));
        Assert.Contains("moving to physical shard 0", ex.Message, StringComparison.Ordinal);
        await mover.MoveAsync(5, 0);
        Assert.Equal(0, db.Resolver.PhysicalShardOf(new IdGenerator(TimeProvider.System, 1).Next(5)));
    }

    private static async Task<Driver> NewDriverAsync(ShardedServices db, Func<int, bool> logical)
    {
        for (var i = 0; i < 2000; i++)
        {
            var driver = await db.Drivers.CreateAsync("Driver " + i, "KA-" + i);
            if (logical(db.Resolver.LogicalShardOf(driver.Id)))
            {
                return driver;
            }
        }

        throw new InvalidOperationException("No driver landed on a wanted logical shard.");
    }

    private static async Task<User> NewUserAsync(ShardedServices db, Func<int, bool> logical)
    {
        for (var i = 0; i < 2000; i++)
        {
            var user = await db.Users.CreateAsync("Rider " + i, ShardedServices.NextPhone());
            if (logical(db.Resolver.LogicalShardOf(user.Id)))
            {
                return user;
            }
        }

        throw new InvalidOperationException("No user landed on a wanted logical shard.");
    }

    private sealed record ShardCount(string Table, int Shard, int Logical, long Rows);

    /// <summary>Rows per table, physical shard and logical shard, read from every primary.</summary>
    private static async Task<List<ShardCount>> CountsAsync(RideBookingTestCluster cluster)
    {
        var counts = new List<ShardCount>();
        for (var shard = 0; shard < cluster.Shards.Count; shard++)
        {
            await using var connection = new MySqlConnection(cluster.Shards[shard].Primary);
            foreach (var table in ShardMover.Tables)
            {
                // Table and column names come from the library's own list.
                var rows = await connection.QueryAsync<(int Logical, long Rows)>($"SELECT {table.ShardColumn}, COUNT(*) FROM {table.Name} GROUP BY {table.ShardColumn}");
                counts.AddRange(rows.Select(r => new ShardCount(table.Name, shard, r.Logical, r.Rows)));
            }
        }

        return counts;
    }

    /// <summary>Every row is on the physical shard its logical shard is placed on, so no row is on two servers.</summary>
    private static void AssertPlaced(List<ShardCount> counts, Func<int, int> placement) =>
        Assert.All(counts, c => Assert.True(placement(c.Logical) == c.Shard, $"{c.Rows} rows of {c.Table} of logical shard {c.Logical} are on physical shard {c.Shard}, placed on {placement(c.Logical)}"));

    private static SortedDictionary<string, long> Totals(List<ShardCount> counts) =>
        new(counts.GroupBy(c => c.Table).ToDictionary(g => g.Key, g => g.Sum(c => c.Rows)), StringComparer.Ordinal);

    /// <summary>Rows seeded through the library and what the library answered about them before the move.</summary>
    private sealed class World
    {
        public List<User> Users { get; } = [];

        public List<Driver> Drivers { get; } = [];

        public List<Ride> Rides { get; } = [];

        public List<Payment> Payments { get; } = [];

        public SortedDictionary<string, long> TotalsBefore { get; set; } = [];

        private readonly Dictionary<long, Ride> _rides = [];
        private readonly Dictionary<long, IReadOnlyList<Ride>> _latest = [];
        private readonly Dictionary<long, Driver> _drivers = [];
        private IReadOnlyList<RankedDriver> _top = [];
        private IReadOnlyList<DriverEarnings> _earnings = [];

        /// <summary>Users and drivers; rides in every state (requested, accepted, completed and paid or not, cancelled).</summary>
        public async Task SeedAsync(ShardedServices db, int users)
        {
            // Users first, then drivers: new rows take the logical shards in turn, so both cover every server.
            for (var i = 0; i < users; i++)
            {
                Users.Add(await db.Users.CreateAsync("Rider " + i, ShardedServices.NextPhone()));
            }

            for (var i = 0; i < users; i++)
            {
                Drivers.Add(await db.Drivers.CreateAsync("Driver " + i, "KA-" + i));
            }

            // Rides stay on one physical shard: a user books a free driver of the same server.
            var free = Drivers.GroupBy(d => db.Resolver.PhysicalShardOf(d.Id)).ToDictionary(g => g.Key, g => new Queue<Driver>(g));
            for (var i = 0; i < Users.Count; i++)
            {
                var user = Users[i];
                if (!free.TryGetValue(db.Resolver.PhysicalShardOf(user.Id), out var drivers) || drivers.Count == 0)
                {
                    continue;
                }

                var driver = drivers.Dequeue();
                var fare = 5m + (i % 7 * 2.5m);
                var ride = await db.Booking.BookAsync(user.Id, driver.Id, fare);
                switch (i % 5)
                {
                    case 0:
                        break;
                    case 1:
                        await db.Booking.AcceptAsync(ride.Id, driver.Id);
                        break;
                    case 2:
                        await db.Booking.CancelAsync(ride.Id);
                        drivers.Enqueue(driver);
                        break;
                    default:
                        await db.Booking.AcceptAsync(ride.Id, driver.Id);
                        await db.Booking.CompleteAsync(ride.Id);
                        if (i % 5 == 4 || i % 3 == 0)
                        {
                            var payment = (await db.Payments.RecordAsync(ride.Id, $"txn-reshard-{Guid.NewGuid():N}", fare)).Payment;
                            if (i % 2 == 0)
                            {
                                payment = await db.Payments.SetStatusAsync(payment.TransactionId, i % 4 == 0 ? PaymentStatus.Failed : PaymentStatus.Succeeded);
                            }

                            Payments.Add(payment);
                        }

                        drivers.Enqueue(driver);
                        break;
                }

                Rides.Add((await db.Rides.GetAsync(ride.Id))!);
            }

            Assert.All(Enum.GetValues<RideStatus>(), s => Assert.Contains(Rides, r => r.Status == s));
        }

        public async Task CaptureAsync(ShardedServices db)
        {
            foreach (var ride in Rides)
            {
                _rides[ride.Id] = (await db.Rides.GetAsync(ride.Id))!;
            }

            foreach (var user in Users)
            {
                _latest[user.Id] = await db.Rides.GetLatestForUserAsync(user.Id, 10);
            }

            foreach (var driver in Drivers)
            {
                _drivers[driver.Id] = (await db.Drivers.GetAsync(driver.Id))!;
            }

            _top = await db.Rides.GetTopDriversAsync(10);
            _earnings = [.. (await db.Rides.GetDriverEarningsAsync()).OrderBy(e => e.DriverId)];
            Assert.NotEmpty(_top);
        }

        /// <summary>Every row by its id, and the queries over every shard (top drivers only with <paramref name="top"/>).</summary>
        public async Task AssertReachableAsync(ShardedServices db, bool top = true)
        {
            foreach (var user in Users)
            {
                Assert.Equal(user, await db.Users.GetAsync(user.Id));
                Assert.Equal(_latest[user.Id], await db.Rides.GetLatestForUserAsync(user.Id, 10));
            }

            foreach (var driver in Drivers)
            {
                Assert.Equal(_drivers[driver.Id], await db.Drivers.GetAsync(driver.Id));
            }

            foreach (var ride in Rides)
            {
                Assert.Equal(_rides[ride.Id], await db.Rides.GetAsync(ride.Id));
            }

            foreach (var payment in Payments)
            {
                Assert.Equal(payment, await db.Payments.GetByTransactionIdAsync(payment.TransactionId));
            }

            // Each driver's earnings once, even while a logical shard's rows are on two servers.
            Assert.Equal(_earnings, (await db.Rides.GetDriverEarningsAsync()).OrderBy(e => e.DriverId));
            if (top)
            {
                Assert.Equal(_top, await db.Rides.GetTopDriversAsync(10));
            }
        }
    }
}
