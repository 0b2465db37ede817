using RideBooking.Data.Internal;

namespace RideBooking.Data.Tests;

public sealed class ReadYourWritesTests
{
    [Fact]
    public void Nothing_written_captures_an_empty_token()
    {
        using var dataSource = ShardTopology.DataSource(3, replicasPerShard: 1);
        Assert.Equal(string.Empty, new ReadYourWrites(dataSource).CaptureToken());
    }

    [Fact]
    public async Task A_captured_token_is_required_in_another_process_until_the_scope_ends()
    {
        using var writer = ShardTopology.DataSource(3, replicasPerShard: 1);
        writer.Shards[0].Written.Observe("0-1-5");
        writer.Shards[2].Written.Observe("0-2-9");
        writer.Shards[2].Written.Observe("1-2-4");
        var token = new ReadYourWrites(writer).CaptureToken();
        Assert.Equal("0=0-1-5;2=0-2-9,1-2-4", token);

        using var reader = ShardTopology.DataSource(3, replicasPerShard: 1);
        reader.Shards[0].Written.Observe("0-1-7");
        reader.Shards[2].Written.Observe("0-2-3");
        var readYourWrites = new ReadYourWrites(reader);

        Assert.Equal("0-1-7", ReadYourWrites.RequiredFor(reader.Shards[0]));
        Assert.Null(ReadYourWrites.RequiredFor(reader.Shards[1]));
        Assert.Equal("0-2-3", ReadYourWrites.RequiredFor(reader.Shards[2]));

        using (readYourWrites.RequireToken(token))
        {
            Assert.Equal("0-1-7", ReadYourWrites.RequiredFor(reader.Shards[0]));
            Assert.Null(ReadYourWrites.RequiredFor(reader.Shards[1]));
            Assert.Equal("0-2-9,1-2-4", ReadYourWrites.RequiredFor(reader.Shards[2]));

            await Task.Yield();
            Assert.Equal("0-2-9,1-2-4", ReadYourWrites.RequiredFor(reader.Shards[2]));
            await Task.Run(() => Assert.Equal("0-2-9,1-2-4", ReadYourWrites.RequiredFor(reader.Shards[2])));

            // A nested token adds to the outer one; its end restores the outer one.
            using (readYourWrites.RequireToken("1=0-3-2;2=0-2-11"))
            {
                await Task.Yield();
                Assert.Equal("0-3-2", ReadYourWrites.RequiredFor(reader.Shards[1]));
                Assert.Equal("0-2-11,1-2-4", ReadYourWrites.RequiredFor(reader.Shards[2]));
            }

            Assert.Null(ReadYourWrites.RequiredFor(reader.Shards[1]));
            Assert.Equal("0-2-9,1-2-4", ReadYourWrites.RequiredFor(reader.Shards[2]));
        }

        Assert.Equal("0-1-7", ReadYourWrites.RequiredFor(reader.Shards[0]));
        Assert.Equal("0-2-3", ReadYourWrites.RequiredFor(reader.Shards[2]));
    }

    [Fact]
    public void A_MySql_token_round_trips()
    {
        const string Set = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-10,\n4a22fb58-82db-22f2-af44-d91bba53a673:1-3";
        using var writer = ShardTopology.DataSource(3, replicasPerShard: 1);
        writer.Shards[1].Written.Observe(Set);
        var token = new ReadYourWrites(writer).CaptureToken();
        Assert.DoesNotContain('\n', token);

        using var reader = ShardTopology.DataSource(3, replicasPerShard: 1);
        using (new ReadYourWrites(reader).RequireToken(token))
        {
            Assert.Equal(Set.Replace("\n", string.Empty, StringComparison.Ordinal), ReadYourWrites.RequiredFor(reader.Shards[1]));
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(";")]
    public void An_empty_token_requires_nothing(string? token)
    {
        using var dataSource = ShardTopology.DataSource(3, replicasPerShard: 1);
        dataSource.Shards[0].Written.Observe("0-1-5");
        var readYourWrites = new ReadYourWrites(dataSource);
        using (readYourWrites.RequireToken("1=0-1-2"))
        {
            using (readYourWrites.RequireToken(token))
            {
                Assert.Equal("0-1-5", ReadYourWrites.RequiredFor(dataSource.Shards[0]));
                Assert.Equal("0-1-2", ReadYourWrites.RequiredFor(dataSource.Shards[1]));
                Assert.Null(ReadYourWrites.RequiredFor(dataSource.Shards[2]));
            }

            Assert.Equal("0-1-2", ReadYourWrites.RequiredFor(dataSource.Shards[1]));
        }

        Assert.Null(ReadYourWrites.RequiredFor(dataSource.Shards[1]));
    }

    [Theory]
    [InlineData("3=0-1-5")]
    [InlineData("99=0-1-5")]
    [InlineData("-1=0-1-5")]
    [InlineData("+1=0-1-5")]
    [InlineData("2147483648=0-1-5")]
    [InlineData("0")]
    [InlineData("0=")]
    [InlineData("=0-1-5")]
    [InlineData("x=0-1-5")]
    [InlineData("0=0-1-5;garbage")]
    [InlineData("0=0-1-5'")]
    [InlineData("0=0-1-5 OR 1=1")]
    [InlineData("0=0-1-5\"")]
    public void A_malformed_token_or_a_shard_out_of_range_is_refused(string token)
    {
        using var dataSource = ShardTopology.DataSource(3, replicasPerShard: 1);
        var readYourWrites = new ReadYourWrites(dataSource);
        var ex = Assert.Throws<ArgumentException>(() => readYourWrites.RequireToken(token));
        Assert.Equal("token", ex.ParamName);

        // A refused token leaves no requirement behind.
        Assert.Null(ReadYourWrites.RequiredFor(dataSource.Shards[0]));
    }

    [Fact]
    public void An_overlong_position_in_a_token_is_refused()
    {
        using var dataSource = ShardTopology.DataSource(3, replicasPerShard: 1);
        Assert.Throws<ArgumentException>(() => new ReadYourWrites(dataSource).RequireToken("0=" + new string('1', 5000)));
    }
}
