using Dapper;
using MySqlConnector;

namespace RideBooking.Data.IntegrationTests;

/// <summary>Replica reads under stopped and delayed replication (one at a time: they change the shared servers).</summary>
[Collection(ReplicationTestGroup.Name)]
public sealed class ReplicaReadTests(ClusterFixture fixture)
{
    /// <summary>A lag watch that checks only at start: the replica stays in rotation, so the GTID wait itself must protect the read.</summary>
    private static void CheckOnlyAtStart(RideBookingOptions o)
    {
        o.ReplicaCheckInterval = TimeSpan.FromMinutes(1);
        o.ReplicaWaitTimeout = TimeSpan.FromMilliseconds(200);
    }

    [Fact]
    public async Task Own_writes_are_seen_while_replication_is_stopped_the_wait_times_out_and_the_read_falls_back_to_the_primary()
    {
        await using var db = new ShardedServices(fixture.Cluster, CheckOnlyAtStart);
        await db.WaitUntilReplicasInRotationAsync();
        var user = await db.NewUserOnShardAsync(1);
        var driver = await db.NewDriverOnShardAsync(1);
        await fixture.Cluster.StopReplicationAsync(1, 0);
        try
        {
            var ride = await db.Booking.BookAsync(user.Id, driver.Id, 30m);
            var fallbacks = db.Count("ridebooking.replica.fallbacks", "shard=1", "reason=wait_timeout");

            Assert.Equal(ride, await db.Rides.GetAsync(ride.Id));
            Assert.False((await db.Drivers.GetAsync(driver.Id))!.Available);

            Assert.Equal(fallbacks + 2, db.Count("ridebooking.replica.fallbacks", "shard=1", "reason=wait_timeout"));
            Assert.True(db.Topology[1].Replicas[0].Healthy);
            // The replica really does not have the ride: without the wait, the read would have missed it.
            Assert.Empty(await RowsOnReplicaAsync(1, ride.Id));
        }
        finally
        {
            await fixture.Cluster.StartReplicationAsync(1, 0);
        }

        await fixture.Cluster.WaitForReplicationAsync();
    }

    [Fact]
    public async Task A_stopped_replica_is_taken_out_of_rotation_by_the_lag_watch_and_comes_back()
    {
        await using var db = new ShardedServices(fixture.Cluster);
        await db.WaitUntilReplicasInRotationAsync();
        await fixture.Cluster.StopReplicationAsync(2, 0);
        try
        {
            await ShardedServices.WaitUntilAsync(() => !db.Topology[2].Replicas[0].Healthy, "the stopped replica out of rotation");
            Assert.Equal("replication is stopped", db.Topology[2].Replicas[0].State);
            var user = await db.NewUserOnShardAsync(2);
            var primaryReads = db.Count("ridebooking.reads", "shard=2", "target=primary");

            Assert.Equal(user, await db.Users.GetAsync(user.Id));

            Assert.Equal(primaryReads + 1, db.Count("ridebooking.reads", "shard=2", "target=primary"));
        }
        finally
        {
            await fixture.Cluster.StartReplicationAsync(2, 0);
        }

        await ShardedServices.WaitUntilAsync(() => db.Topology[2].Replicas[0].Healthy, "the replica back in rotation");
    }

    [Fact]
    public async Task A_token_carries_read_your_writes_to_another_process()
    {
        await using var writer = new ShardedServices(fixture.Cluster, CheckOnlyAtStart);
        await using var reader = new ShardedServices(fixture.Cluster, CheckOnlyAtStart);
        await reader.WaitUntilReplicasInRotationAsync();
        await fixture.Cluster.StopReplicationAsync(0, 0);
        try
        {
            var user = await writer.NewUserOnShardAsync(0);
            var token = writer.ReadYourWrites.CaptureToken();
            Assert.Matches("^[0-9]+=[0-9,:A-Fa-f-]+(;[0-9]+=[0-9,:A-Fa-f-]+)*$", token);

            // Without the token the other process reads the stopped replica, which does not have the user yet.
            Assert.Null(await reader.Users.GetAsync(user.Id));
            using (reader.ReadYourWrites.RequireToken(token))
            {
                Assert.Equal(user, await reader.Users.GetAsync(user.Id));
            }

            Assert.Null(await reader.Users.GetAsync(user.Id));
            Assert.Throws<ArgumentException>(() => reader.ReadYourWrites.RequireToken("0=abc'; DROP TABLE users"));
        }
        finally
        {
            await fixture.Cluster.StartReplicationAsync(0, 0);
        }

        await fixture.Cluster.WaitForReplicationAsync();
    }

    [Fact]
    public async Task A_delayed_replica_leaves_rotation_while_it_lags_and_comes_back()
    {
        await using var db = new ShardedServices(fixture.Cluster, o => o.MaxReplicaLag = TimeSpan.FromSeconds(1));
        await db.WaitUntilReplicasInRotationAsync();
        await fixture.Cluster.SetReplicationDelayAsync(3, 0, TimeSpan.FromSeconds(6));
        try
        {
            await ShardedServices.WaitUntilAsync(() => db.Topology[3].Replicas[0].Healthy, "the delayed replica replicating again");
            // Keep writing on shard 3 until the delay shows up as lag.
            using var writing = new CancellationTokenSource();
            var writes = Task.Run(async () =>
            {
                while (!writing.IsCancellationRequested)
                {
                    await db.NewUserOnShardAsync(3);
                    await Task.Delay(100);
                }
            });
            await ShardedServices.WaitUntilAsync(() => db.Topology[3].Replicas[0].State == "lagging", "the delayed replica out of rotation for its lag");
            Assert.False(db.Topology[3].Replicas[0].Healthy);
            var primaryReads = db.Count("ridebooking.reads", "shard=3", "target=primary");
            var user = await db.NewUserOnShardAsync(3);
            Assert.Equal(user, await db.Users.GetAsync(user.Id));
            Assert.True(db.Count("ridebooking.reads", "shard=3", "target=primary") > primaryReads);
            await writing.CancelAsync();
            await writes;
        }
        finally
        {
            await fixture.Cluster.SetReplicationDelayAsync(3, 0, TimeSpan.Zero);
        }

        await ShardedServices.WaitUntilAsync(() => db.Topology[3].Replicas[0].Healthy, "the replica back in rotation once caught up");
        await fixture.Cluster.WaitForReplicationAsync();
    }

    private async Task<List<long>> RowsOnReplicaAsync(int shard, long rideId)
    {
        await using var connection = new MySqlConnection(fixture.Cluster.Shards[shard].Replicas[0]);
        return [.. await connection.QueryAsync<long>("SELECT id FROM rides WHERE id = @rideId", new { rideId })];
    }
}
