using System.Text.RegularExpressions;

namespace RideBooking.Data.Tests;

public sealed partial class SchemaScriptTests
{
    [Fact]
    public void Scripts_are_embedded_in_order()
    {
        var names = RideBookingSchema.Scripts.Select(s => s.Key).ToList();
        Assert.Equal(["001_users_and_drivers.sql", "002_rides_and_payments.sql", "003_driver_earnings.sql"], names);
    }

    [Fact]
    public void Every_create_is_idempotent_and_portable()
    {
        foreach (var (name, sql) in RideBookingSchema.Scripts)
        {
            var code = string.Join('\n', sql.Split('\n').Select(line => line.Split("--")[0]));
            Assert.All(CreateStatement().Matches(code), m => Assert.StartsWith("CREATE TABLE IF NOT EXISTS", m.Value, StringComparison.OrdinalIgnoreCase));
            Assert.DoesNotMatch(NonPortable(), code);
            Assert.DoesNotContain("AUTO_INCREMENT", code, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotMatch(FloatMoney(), code);
            _ = name;
        }
    }

    [Fact]
    public void The_redundant_seed_index_on_transaction_id_is_not_created()
    {
        var all = string.Concat(RideBookingSchema.Scripts.Select(s => s.Value));
        Assert.Contains("idx_payment_txn", all, StringComparison.Ordinal);
        Assert.DoesNotMatch(RedundantIndex(), all);
    }

    [GeneratedRegex(@"CREATE\s+\w+(\s+\w+){0,4}", RegexOptions.IgnoreCase)]
    private static partial Regex CreateStatement();

    [GeneratedRegex(@"\b(PROCEDURE|TRIGGER|FUNCTION|DELIMITER|EVENT)\b", RegexOptions.IgnoreCase)]
    private static partial Regex NonPortable();

    [GeneratedRegex(@"\b(FLOAT|DOUBLE)\b", RegexOptions.IgnoreCase)]
    private static partial Regex FloatMoney();

    [GeneratedRegex(@"(KEY|INDEX)\s+idx_payment_txn", RegexOptions.IgnoreCase)]
    private static partial Regex RedundantIndex();
}
