using Dapper;
using MySqlConnector;
using RideBooking.Data.Testing;
using RideBooking.Data.Testing.Internal;
using Xunit.Abstractions;

namespace RideBooking.Data.IntegrationTests;

/// <summary>The test cluster: its servers, replication and options. Nothing here changes replication.</summary>
public sealed class ClusterKitTests(ClusterFixture fixture, ITestOutputHelper output) : IClassFixture<ClusterFixture>
{
    private RideBookingTestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_row_written_on_each_primary_shows_up_on_its_replica_and_on_no_other_shard()
    {
        var ids = new long[ClusterFixture.ShardCount];
        for (var shard = 0; shard < ids.Length; shard++)
        {
            ids[shard] = await fixture.InsertUserAsync(shard, $"Shard {shard}");
        }

        await Cluster.WaitForReplicationAsync();

        for (var shard = 0; shard < ids.Length; shard++)
        {
            for (var other = 0; other < ids.Length; other++)
            {
                Assert.Equal(shard == other, await ClusterFixture.HasUserAsync(Cluster.Shards[shard].Replicas[0], ids[other]));
                Assert.Equal(shard == other, await ClusterFixture.HasUserAsync(Cluster.Shards[shard].Primary, ids[other]));
            }
        }
    }

    [Fact]
    public async Task The_replica_reaches_the_primarys_last_gtid()
    {
        for (var shard = 0; shard < ClusterFixture.ShardCount; shard++)
        {
            string lastGtid;
            await using (var primary = await ClusterFixture.OpenAsync(Cluster.Shards[shard].Primary))
            {
                var id = Random.Shared.NextInt64(1, long.MaxValue);
                await primary.ExecuteAsync("INSERT INTO users (id, name, phone, created_at) VALUES (@id, 'Gtid', @phone, UTC_TIMESTAMP(6))", new { id, phone = $"+{id % 1_000_000_000_000_000}" });
                lastGtid = await primary.ExecuteScalarAsync<string>(IsMariaDb ? "SELECT @@last_gtid" : "SELECT @@gtid_executed") ?? string.Empty;
            }

            Assert.NotEmpty(lastGtid);
            await Cluster.WaitForReplicationAsync();

            await using var replica = await ClusterFixture.OpenAsync(Cluster.Shards[shard].Replicas[0]);
            if (IsMariaDb)
            {
                // One domain: the replica's position is at or past the primary's last transaction (other tests
                // share the servers and may have written since), in the same domain and from the same server.
                var position = await replica.ExecuteScalarAsync<string>("SELECT @@gtid_slave_pos") ?? string.Empty;
                var (mine, theirs) = (lastGtid.Split('-'), position.Split('-'));
                Assert.Equal(mine[..2], theirs[..2]);
                Assert.True(long.Parse(theirs[2], System.Globalization.CultureInfo.InvariantCulture) >= long.Parse(mine[2], System.Globalization.CultureInfo.InvariantCulture), $"{position} is behind {lastGtid}");
                Assert.Equal(0, await replica.ExecuteScalarAsync<long>("SELECT MASTER_GTID_WAIT(@lastGtid, 1)", new { lastGtid }));
            }
            else
            {
                Assert.Equal(1, await replica.ExecuteScalarAsync<long>("SELECT GTID_SUBSET(@primary, @@gtid_executed)", new { primary = lastGtid }));
            }
        }
    }

    [Fact]
    public async Task Servers_listen_on_loopback_primaries_log_rows_and_replicas_are_read_only_and_replicate_by_gtid_as_their_own_user()
    {
        var serverIds = new HashSet<long>();
        foreach (var shard in Cluster.Shards)
        {
            await using var primary = await ClusterFixture.OpenAsync(shard.Primary);
            Assert.Equal("ROW", await primary.ExecuteScalarAsync<string>("SELECT @@binlog_format"));
            Assert.Equal(1, await primary.ExecuteScalarAsync<long>("SELECT @@log_bin"));
            Assert.Equal(0, await primary.ExecuteScalarAsync<long>("SELECT @@read_only"));
            Assert.True(serverIds.Add(await primary.ExecuteScalarAsync<long>("SELECT @@server_id")));
            foreach (var replicaConnectionString in shard.Replicas)
            {
                await using var replica = await ClusterFixture.OpenAsync(replicaConnectionString);
                Assert.Equal(1, await replica.ExecuteScalarAsync<long>("SELECT @@read_only"));
                Assert.True(serverIds.Add(await replica.ExecuteScalarAsync<long>("SELECT @@server_id")));
                var status = await ReplicaStatusAsync(replica);
                Assert.Equal("rb_replication", (string)(status.Master_User ?? status.Source_User));
                Assert.Equal("Yes", (string)(status.Slave_IO_Running ?? status.Replica_IO_Running));
                Assert.Equal("Yes", (string)(status.Slave_SQL_Running ?? status.Replica_SQL_Running));
                if (IsMariaDb)
                {
                    Assert.Equal("Slave_Pos", (string)status.Using_Gtid);
                }
            }

            if (fixture.Cluster.Description.Contains("local", StringComparison.Ordinal))
            {
                Assert.Equal("127.0.0.1", await primary.ExecuteScalarAsync<string>("SELECT @@bind_address"));
            }
        }

        Assert.Equal(ClusterFixture.ShardCount * (1 + ClusterFixture.ReplicasPerShard), serverIds.Count);
        Assert.DoesNotContain("Password", Cluster.Description, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Password", Cluster.Shards[0].ToString(), StringComparison.OrdinalIgnoreCase);
        output.WriteLine(Cluster.Description);
        output.WriteLine($"Servers found or started in {Cluster.ServerStartTime.TotalSeconds:0.00} s; this fixture's cluster created in {fixture.CreateTime.TotalSeconds:0.00} s.");
    }

    [Fact]
    public void Configure_fills_the_shards_and_clears_the_connection_string()
    {
        var options = new RideBookingOptions { ConnectionString = "Server=elsewhere" };
        options.Shards.Add(new ShardOptions { Primary = "Server=stale" });

        Cluster.Configure(options);

        Assert.Null(options.ConnectionString);
        Assert.Equal(ClusterFixture.ShardCount, options.Shards.Count);
        for (var shard = 0; shard < ClusterFixture.ShardCount; shard++)
        {
            Assert.Equal(Cluster.Shards[shard].Primary, options.Shards[shard].Primary);
            Assert.Equal(Cluster.Shards[shard].Replicas, options.Shards[shard].Replicas);
            Assert.Equal(Cluster.DatabaseName, new MySqlConnectionStringBuilder(options.Shards[shard].Primary!).Database);
            Assert.Equal(Cluster.DatabaseName, new MySqlConnectionStringBuilder(options.Shards[shard].Replicas[0]).Database);
        }

        Assert.Equal(ClusterFixture.ShardCount, Cluster.Shards.Select(shard => new MySqlConnectionStringBuilder(shard.Primary).Port).Distinct().Count());
    }

    [Fact]
    public async Task Clusters_of_one_shape_share_servers_and_each_has_its_own_database_with_the_schema_dropped_on_dispose()
    {
        RideBookingTestShard shard;
        string name;
        await using (var other = await RideBookingTestCluster.CreateAsync(ClusterFixture.ShardCount, ClusterFixture.ReplicasPerShard))
        {
            Assert.NotEqual(Cluster.DatabaseName, other.DatabaseName);
            Assert.Equal(Cluster.Shards.Select(Endpoint), other.Shards.Select(Endpoint));
            await using var replica = await ClusterFixture.OpenAsync(other.Shards[3].Replicas[0]);
            await using var primary = await ClusterFixture.OpenAsync(other.Shards[3].Primary);
            const string Tables = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()";
            Assert.True(await primary.ExecuteScalarAsync<long>(Tables) >= 6);
            Assert.Equal(await primary.ExecuteScalarAsync<long>(Tables), await replica.ExecuteScalarAsync<long>(Tables));
            // The accounts go with the database: look for it as the administrator.
            shard = other.ShardsFor(RideBookingTestAccount.Administrator)[3];
            name = other.DatabaseName;
        }

        await Cluster.WaitForReplicationAsync();
        foreach (var connectionString in shard.Replicas.Prepend(shard.Primary))
        {
            await using var connection = await ClusterFixture.OpenAsync(new MySqlConnectionStringBuilder(connectionString) { Database = string.Empty }.ConnectionString);
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = @name", new { name }));
        }

        static string Endpoint(RideBookingTestShard s) => s.ToString();
    }

    private bool IsMariaDb => Cluster.Description.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);

    internal static async Task<dynamic> ReplicaStatusAsync(MySqlConnection replica) =>
        await replica.QuerySingleAsync(replica.ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase) ? "SHOW SLAVE STATUS" : "SHOW REPLICA STATUS");
}

/// <summary>Stopping and delaying replication: one at a time, restored in <c>finally</c>.</summary>
[Collection(ReplicationTestGroup.Name)]
public sealed class ClusterKitReplicationTests(ClusterFixture fixture)
{
    private RideBookingTestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task With_the_sql_thread_stopped_a_write_does_not_arrive_until_replication_starts_again()
    {
        const int Shard = 2;
        var replica = Cluster.Shards[Shard].Replicas[0];
        await Cluster.StopReplicationAsync(Shard, 0);
        try
        {
            var id = await fixture.InsertUserAsync(Shard, "Held back");
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            Assert.False(await ClusterFixture.HasUserAsync(replica, id));
            using (var soon = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Cluster.WaitForReplicationAsync(soon.Token));
            }

            await Cluster.StartReplicationAsync(Shard, 0);
            await Cluster.WaitForReplicationAsync();
            Assert.True(await ClusterFixture.HasUserAsync(replica, id));
        }
        finally
        {
            await Cluster.StartReplicationAsync(Shard, 0);
        }
    }

    [Fact]
    public async Task A_delayed_replica_is_seconds_behind_while_writes_wait_and_catches_up_when_the_delay_is_removed()
    {
        const int Shard = 1;
        var replica = Cluster.Shards[Shard].Replicas[0];
        await Cluster.SetReplicationDelayAsync(Shard, 0, TimeSpan.FromSeconds(30));
        try
        {
            var id = await fixture.InsertUserAsync(Shard, "Delayed");
            await using var connection = await ClusterFixture.OpenAsync(replica);
            long? behind = null;
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            while (stopwatch.Elapsed < TimeSpan.FromSeconds(15) && behind is not > 0)
            {
                await Task.Delay(200);
                var status = await ClusterKitTests.ReplicaStatusAsync(connection);
                behind = (long?)(ulong?)(status.Seconds_Behind_Master ?? status.Seconds_Behind_Source);
            }

            Assert.True(behind > 0, $"Seconds_Behind_Master stayed {behind?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "NULL"}");
            Assert.False(await ClusterFixture.HasUserAsync(replica, id));

            await Cluster.SetReplicationDelayAsync(Shard, 0, TimeSpan.Zero);
            await Cluster.WaitForReplicationAsync();
            Assert.True(await ClusterFixture.HasUserAsync(replica, id));
        }
        finally
        {
            await Cluster.SetReplicationDelayAsync(Shard, 0, TimeSpan.Zero);
            await Cluster.WaitForReplicationAsync();
        }
    }
}

/// <summary>Where the cluster's servers come from; none of these needs a server.</summary>
public sealed class ClusterKitTopologyTests
{
    private const string Secret = "s3cret-value";

    [Fact]
    public void The_topology_variable_is_read_shard_by_shard()
    {
        var topology = TestClusterLocator.ParseTopology("""
            [
              {"Primary": "Server=10.0.0.1;User ID=app;Password=s3cret-value", "Replicas": ["Server=10.0.0.2;User ID=app;Password=s3cret-value", "Server=10.0.0.3"]},
              {"Primary": "Server=10.0.1.1", "Replicas": []},
              {"Primary": "Server=10.0.2.1"}
            ]
            """);

        Assert.Equal(3, topology.Count);
        Assert.Equal("Server=10.0.0.1;User ID=app;Password=s3cret-value", topology[0].Primary);
        Assert.Equal(["Server=10.0.0.2;User ID=app;Password=s3cret-value", "Server=10.0.0.3"], topology[0].Replicas);
        Assert.Empty(topology[1].Replicas);
        Assert.Empty(topology[2].Replicas);
    }

    [Theory]
    [InlineData("not json s3cret-value", "not valid JSON")]
    [InlineData("{\"Primary\":\"Server=a;Password=s3cret-value\"}", "non-empty JSON array")]
    [InlineData("[]", "non-empty JSON array")]
    [InlineData("[{\"Replicas\":[\"Server=a;Password=s3cret-value\"]}]", "RIDEBOOKING_TOPOLOGY[0] has no \"Primary\"")]
    [InlineData("[{\"Primary\":\"Server=a;Password=s3cret-value\",\"Replicas\":[42]}]", "RIDEBOOKING_TOPOLOGY[0].Replicas[0]")]
    [InlineData("[{\"Primary\":\"Server=a;Password=s3cret-value;Bogus Option=s3cret-value\"}]", "not a valid MySQL connection string")]
    [InlineData("[{\"Primary\":\"Server=a\",\"Password\":\"s3cret-value\"}]", "unexpected property")]
    public void A_malformed_topology_is_an_error_that_says_where_without_the_values(string json, string expected)
    {
        var ex = Assert.Throws<InvalidOperationException>(() => TestClusterLocator.ParseTopology(json));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_topology_of_another_shape_is_refused_before_any_connection()
    {
        var locator = new TestClusterLocator(new TestClusterDiscovery
        {
            GetEnvironmentVariable = name => name == TestClusterDiscovery.EnvironmentVariableName
                ? "[{\"Primary\":\"Server=127.0.0.1;Port=1;Password=s3cret-value\",\"Replicas\":[\"Server=127.0.0.1;Port=2;Password=s3cret-value\"]}]"
                : null,
            StartLocalCluster = (_, _, _, _) => throw new InvalidOperationException("A local cluster must not be started."),
        });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => locator.GetAsync(4, 1, CancellationToken.None));

        Assert.Contains("1 shard(s) with 1 replica(s)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("4 shard(s) with 1 replica(s) each", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, ex.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("true")]
    [InlineData(null)]
    public async Task Without_a_topology_or_a_server_binary_the_error_says_how_to_provide_them(string? ci)
    {
        var locator = new TestClusterLocator(new TestClusterDiscovery
        {
            GetEnvironmentVariable = name => name == "CI" ? ci : null,
            BinaryDirectories = [Path.Combine(Path.GetTempPath(), "ridebooking-no-such-folder")],
            StartLocalCluster = (_, _, _, _) => throw new InvalidOperationException("A local cluster must not be started."),
        });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => locator.GetAsync(2, 1, CancellationToken.None));

        Assert.Contains("RIDEBOOKING_TOPOLOGY", ex.Message, StringComparison.Ordinal);
        Assert.Contains("mariadbd", ex.Message, StringComparison.Ordinal);
        Assert.Equal(ci is not null, ex.Message.Contains("CI runner", StringComparison.Ordinal));
    }
}
