using System.Globalization;
using System.Text;

namespace RideBooking.Data.Internal;

/// <summary>
/// The home logical shard of a key that must be unique across all shards: <c>CRC32(bytes) &amp; 255</c>, computed from
/// the key alone, so any process finds the same home. Two keys the database considers equal always get the same home:
/// <list type="bullet">
/// <item>a transaction id is compared byte for byte (<c>utf8mb4_bin</c>; leading and trailing white space is refused, so
/// PAD SPACE never matters): the bytes are its UTF-8 bytes, as <c>CRC32(transaction_id) &amp; 255</c> in SQL;</item>
/// <item>a phone is compared with <c>utf8mb4_unicode_ci</c> (case, accents, width and trailing spaces ignored; every
/// character outside the Basic Multilingual Plane weighs the same): the bytes are the decimal digits of the phone's
/// Basic Multilingual Plane characters after compatibility decomposition (NFKD), as ASCII digits in order. Characters
/// the collation treats as equal decompose to the same digits (or to none), so equal phones share a home; for ASCII
/// phones this is <c>CRC32(REGEXP_REPLACE(phone, '[^0-9]', '')) &amp; 255</c>.</item>
/// </list>
/// </summary>
internal static class KeyHome
{
    private static readonly uint[] Table = BuildTable();

    /// <summary>The home logical shard of a provider transaction id.</summary>
    public static int OfTransactionId(string transactionId) => (int)(Crc32(Encoding.UTF8.GetBytes(transactionId)) & 255);

    /// <summary>The home logical shard of a phone number.</summary>
    public static int OfPhone(string phone) => (int)(Crc32(PhoneDigits(phone)) & 255);

    /// <summary>The decimal digits of the phone (see the class), as ASCII bytes.</summary>
    internal static byte[] PhoneDigits(string phone)
    {
        var digits = new List<byte>(phone.Length);
        for (var i = 0; i < phone.Length; i++)
        {
            if (char.IsSurrogate(phone[i]))
            {
                // The collation gives every supplementary character the same weight: it contributes nothing.
                continue;
            }

            foreach (var c in phone[i].ToString().Normalize(NormalizationForm.FormKD))
            {
                var value = CharUnicodeInfo.GetDecimalDigitValue(c);
                if (value >= 0)
                {
                    digits.Add((byte)('0' + value));
                }
            }
        }

        return [.. digits];
    }

    /// <summary>CRC-32 (IEEE 802.3, as MySQL's and MariaDB's <c>CRC32()</c>).</summary>
    internal static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
