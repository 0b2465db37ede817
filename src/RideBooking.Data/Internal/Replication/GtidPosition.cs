using System.Globalization;

namespace RideBooking.Data.Internal;

/// <summary>
/// The newest GTID position seen on one shard's primary. MariaDB positions (<c>domain-server-sequence</c>, comma
/// separated) keep the highest sequence per replication domain; MySQL GTID sets (<c>uuid:1-42,...</c>) keep the set
/// with the most transactions (a later read of <c>gtid_executed</c> on one primary contains every earlier one).
/// </summary>
internal sealed class GtidPosition
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<uint, (uint Server, ulong Sequence)> _domains = [];
    private long _mySqlCount;
    private volatile string? _current;

    /// <summary>Gets the position to wait for, or <see langword="null"/> when nothing was written.</summary>
    public string? Current => _current;

    public void Observe(string? position)
    {
        if (string.IsNullOrEmpty(position))
        {
            return;
        }

        // MySQL separates the sources of gtid_executed with ",\n": keep positions on one line, as tokens need them.
        if (position.Any(char.IsWhiteSpace))
        {
            position = string.Concat(position.Where(c => !char.IsWhiteSpace(c)));
        }

        lock (_gate)
        {
            if (TryParseMariaDb(position, _domains))
            {
                _current = Format(_domains);
            }
            else if (IsMySqlSet(position) && CountMySql(position) is var count && count > _mySqlCount)
            {
                _mySqlCount = count;
                _current = position;
            }
        }
    }

    /// <summary>A position that contains both (either may be <see langword="null"/>).</summary>
    public static string? Merge(string? a, string? b)
    {
        if (string.IsNullOrEmpty(a))
        {
            return string.IsNullOrEmpty(b) ? null : b;
        }

        if (string.IsNullOrEmpty(b) || string.Equals(a, b, StringComparison.Ordinal))
        {
            return a;
        }

        var domains = new SortedDictionary<uint, (uint, ulong)>();
        if (TryParseMariaDb(a, domains) && TryParseMariaDb(b, domains))
        {
            return Format(domains);
        }

        // MySQL accepts a GTID set that names a source more than once and takes the union.
        return a + "," + b;
    }

    /// <summary>Only the characters of a MariaDB GTID list or a MySQL GTID set (digits, hex, '-', ':', ',').</summary>
    public static bool IsWellFormed(string position) =>
        position.Length is > 0 and <= 4096 && position.All(c => char.IsAsciiHexDigit(c) || c is '-' or ':' or ',');

    private static bool TryParseMariaDb(string position, SortedDictionary<uint, (uint Server, ulong Sequence)> into)
    {
        var parsed = new List<(uint Domain, uint Server, ulong Sequence)>();
        foreach (var part in position.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pieces = part.Split('-');
            if (pieces.Length != 3
                || !uint.TryParse(pieces[0], NumberStyles.None, CultureInfo.InvariantCulture, out var domain)
                || !uint.TryParse(pieces[1], NumberStyles.None, CultureInfo.InvariantCulture, out var server)
                || !ulong.TryParse(pieces[2], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
            {
                return false;
            }

            parsed.Add((domain, server, sequence));
        }

        foreach (var (domain, server, sequence) in parsed)
        {
            if (!into.TryGetValue(domain, out var known) || sequence > known.Sequence)
            {
                into[domain] = (server, sequence);
            }
        }

        return parsed.Count > 0;
    }

    private static string Format(SortedDictionary<uint, (uint Server, ulong Sequence)> domains) =>
        string.Join(',', domains.Select(d => string.Create(CultureInfo.InvariantCulture, $"{d.Key}-{d.Value.Server}-{d.Value.Sequence}")));

    private static bool IsMySqlSet(string position) => position.Contains(':', StringComparison.Ordinal);

    /// <summary>How many transactions a MySQL GTID set names (the sum of its intervals).</summary>
    private static long CountMySql(string set)
    {
        long count = 0;
        foreach (var source in set.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            foreach (var interval in source.Split(':').Skip(1))
            {
                var bounds = interval.Split('-');
                if (long.TryParse(bounds[0], NumberStyles.None, CultureInfo.InvariantCulture, out var from))
                {
                    var to = bounds.Length > 1 && long.TryParse(bounds[1], NumberStyles.None, CultureInfo.InvariantCulture, out var end) ? end : from;
                    count += to - from + 1;
                }
            }
        }

        return count;
    }
}
