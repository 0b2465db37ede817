using RideBooking.Data.Internal;

namespace RideBooking.Data.Tests;

public sealed class GtidPositionTests
{
    private const string Uuid1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    private const string Uuid2 = "4A22FB58-82DB-22F2-AF44-D91BBA53A673";

    private static string? Observed(params string?[] positions)
    {
        var position = new GtidPosition();
        foreach (var p in positions)
        {
            position.Observe(p);
        }

        return position.Current;
    }

    [Fact]
    public void Nothing_observed_is_nothing_to_wait_for() => Assert.Null(Observed(null, string.Empty));

    [Fact]
    public void MariaDb_lists_keep_the_highest_sequence_per_domain()
    {
        Assert.Equal("0-1-5", Observed("0-1-5", "0-1-3"));
        Assert.Equal("0-1-7", Observed("0-1-5", "0-1-7"));
        Assert.Equal("0-1-5,1-2-7", Observed("0-1-5", "1-2-7"));
        Assert.Equal("0-1-5,1-2-7", Observed("1-2-7", "0-1-5"));
        Assert.Equal("0-3-9,1-2-7", Observed("0-1-5,1-2-7", "0-3-9"));
        Assert.Equal("0-1-5,1-2-7,2-1-1", Observed("0-1-5,1-2-7", "1-2-6,2-1-1", "0-1-4"));
        Assert.Equal("0-1-18446744073709551615", Observed("0-1-18446744073709551615", "0-1-5"));
    }

    [Fact]
    public void MariaDb_positions_keep_the_maximum_for_random_sequences()
    {
        var random = new Random(3);
        for (var round = 0; round < 200; round++)
        {
            var position = new GtidPosition();
            var max = new Dictionary<uint, ulong>();
            for (var i = 0; i < 30; i++)
            {
                var domain = (uint)random.Next(3);
                var sequence = (ulong)random.Next(1, 1000);
                position.Observe($"{domain}-1-{sequence}");
                max[domain] = Math.Max(max.GetValueOrDefault(domain), sequence);
            }

            Assert.Equal(string.Join(',', max.OrderBy(d => d.Key).Select(d => $"{d.Key}-1-{d.Value}")), position.Current);
        }
    }

    [Fact]
    public void MySql_sets_keep_the_larger_set()
    {
        Assert.Equal($"{Uuid1}:1-10", Observed($"{Uuid1}:1-10", $"{Uuid1}:1-5"));
        Assert.Equal($"{Uuid1}:1-12", Observed($"{Uuid1}:1-10", $"{Uuid1}:1-12"));
        Assert.Equal($"{Uuid1}:1-10,{Uuid2}:1-3", Observed($"{Uuid1}:1-10", $"{Uuid1}:1-10,{Uuid2}:1-3", $"{Uuid1}:1-11"));
        Assert.Equal($"{Uuid1}:1-5:7-9", Observed($"{Uuid1}:1-5:7-9", $"{Uuid1}:1-7"));
    }

    [Fact]
    public void A_MySql_set_of_several_sources_is_kept_on_one_line()
    {
        // gtid_executed separates sources with ",\n"; a position goes into single-line tokens.
        var current = Observed($"{Uuid1}:1-10,\n{Uuid2}:1-3");
        Assert.NotNull(current);
        Assert.True(GtidPosition.IsWellFormed(current), current);
        Assert.Equal($"{Uuid1}:1-10,{Uuid2}:1-3", current);
    }

    [Fact]
    public void Merge_combines_both_kinds()
    {
        Assert.Null(GtidPosition.Merge(null, null));
        Assert.Null(GtidPosition.Merge(string.Empty, string.Empty));
        Assert.Equal("0-1-5", GtidPosition.Merge(null, "0-1-5"));
        Assert.Equal("0-1-5", GtidPosition.Merge("0-1-5", null));
        Assert.Equal("0-1-5", GtidPosition.Merge("0-1-5", "0-1-5"));
        Assert.Equal("0-1-5", GtidPosition.Merge("0-1-3", "0-1-5"));
        Assert.Equal("0-1-5", GtidPosition.Merge("0-1-5", "0-1-3"));
        Assert.Equal("0-1-5,1-1-2,2-1-4", GtidPosition.Merge("0-1-5,1-1-2", "0-1-3,2-1-4"));

        var mySql = GtidPosition.Merge($"{Uuid1}:1-10", $"{Uuid2}:1-3");
        Assert.Equal($"{Uuid1}:1-10,{Uuid2}:1-3", mySql);
        Assert.True(GtidPosition.IsWellFormed(mySql!));
    }

    [Theory]
    [InlineData("0-1-5")]
    [InlineData("0-1-5,1-2-7")]
    [InlineData(Uuid1 + ":1-10")]
    [InlineData(Uuid1 + ":1-10," + Uuid2 + ":1-3:5-9")]
    public void Well_formed_positions_are_accepted(string position) => Assert.True(GtidPosition.IsWellFormed(position));

    [Theory]
    [InlineData("")]
    [InlineData("0-1-5 ")]
    [InlineData("0-1-5, 1-2-7")]
    [InlineData("0-1-5;1-2-7")]
    [InlineData("0-1-5'")]
    [InlineData("0-1-\"5\"")]
    [InlineData("g-1-5")]
    [InlineData("0-1-5z")]
    [InlineData("0-1-5\n")]
    [InlineData("0-1-5); DROP TABLE rides; --")]
    [InlineData("٣-1-5")]
    public void Malformed_positions_are_rejected(string position) => Assert.False(GtidPosition.IsWellFormed(position));

    [Fact]
    public void Overlong_positions_are_rejected()
    {
        Assert.True(GtidPosition.IsWellFormed(new string('1', 4096)));
        Assert.False(GtidPosition.IsWellFormed(new string('1', 4097)));
    }
}
