using RideBooking.Data.Internal;

namespace RideBooking.Data.Tests;

public sealed class GuardTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(0.01)]
    [InlineData(12.5)]
    [InlineData(99999999.99)]
    public void Money_that_fits_decimal_10_2_is_accepted(double value) =>
        Assert.Equal((decimal)value, Guard.Money((decimal)value, "fare"));

    [Theory]
    [InlineData(-0.01)]
    [InlineData(0.001)]
    [InlineData(1.234)]
    [InlineData(100000000)]
    public void Money_that_does_not_fit_is_refused(double value)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => Guard.Money((decimal)value, "fare"));
        Assert.Equal("fare", ex.ParamName);
    }

    [Fact]
    public void Text_length_is_counted_in_characters_not_utf16_units()
    {
        var hundredEmoji = string.Concat(Enumerable.Repeat("😀", 100));
        Assert.Equal(200, hundredEmoji.Length);
        Assert.Equal(hundredEmoji, Guard.Text(hundredEmoji, "name", 100));
        Assert.Throws<ArgumentException>(() => Guard.Text(hundredEmoji + "x", "name", 100));
    }

    [Fact]
    public void Unpaired_surrogates_are_refused()
    {
        // Built here, not in theory data: serializing theory data would replace the lone surrogates.
        foreach (var value in new[] { "\ud800", "a\udc00b", "ok\ud83d" })
        {
            Assert.Throws<ArgumentException>(() => Guard.Text(value, "name", 100));
        }
    }

    [Fact]
    public void Null_is_an_argument_null_exception()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => Guard.Text(null, "phone", 20));
        Assert.Equal("phone", ex.ParamName);
    }

    [Theory]
    [InlineData(" t")]
    [InlineData("t ")]
    [InlineData("\tt")]
    public void Transaction_ids_with_outer_white_space_are_refused(string value) =>
        Assert.Throws<ArgumentException>(() => Guard.TransactionId(value, "transactionId"));

    [Theory]
    [InlineData(0, 100)]
    [InlineData(101, 100)]
    [InlineData(-1, 100)]
    public void Limits_outside_the_range_are_refused(int value, int max) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Guard.Limit(value, max, "limit"));
}
