using System.Text;

namespace RideBooking.Data.Internal;

/// <summary>Argument checks shared by every public method, so bad input fails before any SQL runs.</summary>
internal static class Guard
{
    /// <summary>The largest value a DECIMAL(10,2) column holds.</summary>
    internal const decimal MaxMoney = 99_999_999.99m;

    internal const int NameMaxLength = 100;
    internal const int PhoneMaxLength = 20;
    internal const int VehicleNumberMaxLength = 20;
    internal const int TransactionIdMaxLength = 100;

    /// <summary>Non-empty, not only white space, valid UTF-16, at most <paramref name="maxLength"/> characters (as the database counts them).</summary>
    public static string Text(string? value, string paramName, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(value, paramName);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException("The value must not be empty or white space.", paramName);
        }

        var characters = 0;
        var remaining = value.AsSpan();
        while (!remaining.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(remaining, out _, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                throw new ArgumentException("The value is not valid Unicode text (it holds an unpaired surrogate).", paramName);
            }

            remaining = remaining[consumed..];
            characters++;
        }

        if (characters > maxLength)
        {
            throw new ArgumentException($"The value has {characters} characters; at most {maxLength} are allowed.", paramName);
        }

        return value;
    }

    /// <summary>A transaction id: as <see cref="Text"/>, and without leading or trailing white space (which the database would ignore when comparing).</summary>
    public static string TransactionId(string? value, string paramName)
    {
        Text(value, paramName, TransactionIdMaxLength);
        if (char.IsWhiteSpace(value![0]) || char.IsWhiteSpace(value[^1]))
        {
            throw new ArgumentException("A transaction id must not start or end with white space.", paramName);
        }

        return value;
    }

    /// <summary>A caller's idempotency key: the same rules as a transaction id (1 to 100 characters, no white space at either end).</summary>
    public static string IdempotencyKey(string? value, string paramName) => TransactionId(value, paramName);

    /// <summary>An amount that fits DECIMAL(10,2) exactly: 0 to 99,999,999.99, at most two decimals.</summary>
    public static decimal Money(decimal value, string paramName)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value, paramName);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxMoney, paramName);
        if (decimal.Round(value, 2) != value)
        {
            throw new ArgumentException("The amount must have at most two decimals.", paramName);
        }

        return value;
    }

    /// <summary>An id of a stored entity: always positive.</summary>
    public static long Id(long value, string paramName)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value, paramName);
        return value;
    }

    public static int Limit(int value, int max, string paramName)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value, paramName);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, max, paramName);
        return value;
    }
}
