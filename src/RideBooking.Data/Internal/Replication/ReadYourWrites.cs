using System.Globalization;
using System.Text;

namespace RideBooking.Data.Internal;

/// <summary>
/// What a replica read on a shard must wait for: the writes this process made there, plus those named by a token
/// required in the current asynchronous flow. Tokens are <c>shard=position</c> pairs separated by ';'.
/// </summary>
internal sealed class ReadYourWrites(RideBookingDataSource dataSource) : IReadYourWrites
{
    private static readonly AsyncLocal<Dictionary<int, string>?> Required = new();

    public string CaptureToken()
    {
        var token = new StringBuilder();
        foreach (var shard in dataSource.Shards)
        {
            if (shard.Written.Current is { } position)
            {
                token.Append(token.Length == 0 ? string.Empty : ";").Append(shard.Index.ToString(CultureInfo.InvariantCulture)).Append('=').Append(position);
            }
        }

        return token.ToString();
    }

    public IDisposable RequireToken(string? token)
    {
        var previous = Required.Value;
        if (string.IsNullOrWhiteSpace(token))
        {
            return new Scope(previous);
        }

        var merged = previous is null ? [] : new Dictionary<int, string>(previous);
        foreach (var entry in token.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var separator = entry.IndexOf('=', StringComparison.Ordinal);
            if (separator <= 0
                || !int.TryParse(entry.AsSpan(0, separator), NumberStyles.None, CultureInfo.InvariantCulture, out var shard)
                || shard >= dataSource.Shards.Length
                || !GtidPosition.IsWellFormed(entry[(separator + 1)..]))
            {
                throw new ArgumentException("This is not a read-your-writes token of RideBooking.Data for the configured shards.", nameof(token));
            }

            merged[shard] = GtidPosition.Merge(merged.GetValueOrDefault(shard), entry[(separator + 1)..])!;
        }

        Required.Value = merged;
        return new Scope(previous);
    }

    /// <summary>The position a replica read on <paramref name="shard"/> waits for, or <see langword="null"/>.</summary>
    public static string? RequiredFor(PhysicalShard shard) =>
        Required.Value is { } required && required.TryGetValue(shard.Index, out var fromToken)
            ? GtidPosition.Merge(shard.Written.Current, fromToken)
            : shard.Written.Current;

    private sealed class Scope(Dictionary<int, string>? previous) : IDisposable
    {
        public void Dispose() => Required.Value = previous;
    }
}
