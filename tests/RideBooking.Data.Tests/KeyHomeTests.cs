using System.Text;
using RideBooking.Data.Internal;

namespace RideBooking.Data.Tests;

public sealed class KeyHomeTests
{
    [Fact]
    public void Crc32_is_the_ieee_crc_that_mysql_and_mariadb_compute()
    {
        Assert.Equal(0xCBF43926u, KeyHome.Crc32("123456789"u8));
        Assert.Equal(0u, KeyHome.Crc32([]));
    }

    [Fact]
    public void A_transaction_ids_home_is_the_crc_of_its_utf8_bytes()
    {
        foreach (var txn in new[] { "txn-1", "TXN-1", "pay_é_🚕", new string('x', 100) })
        {
            Assert.Equal((int)(KeyHome.Crc32(Encoding.UTF8.GetBytes(txn)) & 255), KeyHome.OfTransactionId(txn));
        }
    }

    [Theory]
    [InlineData("+1 555 0100", "+1 555 0100   ")]
    [InlineData("+1 555 0100", "＋１ ５５５ ０１００")]
    [InlineData("+1-555-0100 ext A", "+1-555-0100 EXT á")]
    [InlineData("①②③", "123")]
    [InlineData("1😀2", "1🚕2")]
    public void Phones_the_collation_calls_equal_share_a_home(string phone, string same)
    {
        Assert.Equal(KeyHome.OfPhone(phone), KeyHome.OfPhone(same));
    }

    [Fact]
    public void A_phones_home_is_the_crc_of_its_digits_and_phones_spread_over_the_shards()
    {
        Assert.Equal("15550100", Encoding.ASCII.GetString(KeyHome.PhoneDigits("+1 (555) 01-00")));
        Assert.Equal((int)(KeyHome.Crc32("15550100"u8) & 255), KeyHome.OfPhone("+1 (555) 01-00"));
        var homes = Enumerable.Range(0, 4000).Select(i => KeyHome.OfPhone($"+91 98{i:D8}") % 4).GroupBy(h => h).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(4, homes.Count);
        Assert.All(homes.Values, count => Assert.InRange(count, 800, 1200));
    }
}
