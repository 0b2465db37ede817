using System.Globalization;
using System.Text;
using BenchmarkDotNet.Reports;

namespace RideBooking.Data.Benchmarks;

/// <summary>
/// Turns one run's results into the headline ratios the suite promises (each a quotient of two
/// cases measured in the same run), a markdown table and an SVG chart, in benchmarks/results.
/// </summary>
public static class Headline
{
    private sealed record Claim(string Text, string Target, double Limit, bool AtMost, double? Ratio, bool Exact = false);

    /// <summary>
    /// Writes headline.md, headline.svg and report.md when the run measured any of the single-database cases, and
    /// sharding-headline.md, sharding-headline.svg and sharding-report.md when it measured any of the sharding cases, and
    /// cross-shard-headline.md, cross-shard-headline.svg and cross-shard-report.md for the cross-shard cases (so that a
    /// run of only one set leaves the others' files alone).
    /// </summary>
    public static string Write(IReadOnlyList<Summary> summaries, string serverVersion, string sizes, IReadOnlyDictionary<string, double> facts)
    {
        var reports = summaries.SelectMany(s => s.Reports).Where(r => r.Success && r.ResultStatistics is not null).ToList();

        BenchmarkReport? Find(string type, string method, string? size = null, int? clients = null) => reports.FirstOrDefault(r =>
            r.BenchmarkCase.Descriptor.Type.Name == type
            && r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method
            && (size is null || Equals(r.BenchmarkCase.Parameters["Size"], size))
            && (clients is null || Equals(r.BenchmarkCase.Parameters["Clients"], clients)));

        double? Time(BenchmarkReport? r) => r?.ResultStatistics?.Mean;
        double? Bytes(BenchmarkReport? r) => r?.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase);
        double? Quotient(double? a, double? b) => a is null || b is null || b == 0 ? null : a / b;

        var claims = new List<Claim>();
        void AtMost(string text, double limit, double? ratio) => claims.Add(new Claim(text, $"<= {limit:0.##}x", limit, true, ratio));
        void AtLeast(string text, double limit, double? ratio) => claims.Add(new Claim(text, $">= {limit:0.##}x", limit, false, ratio));

        var sizeList = sizes.Split(',');
        foreach (var size in sizeList)
        {
            foreach (var (type, library, baseline, label) in new[]
            {
                ("LatestRidesBenchmarks", "Library_Latest10", "HandWritten_Latest10", "latest 10 rides"),
                ("LatestRidesBenchmarks", "Library_PrimaryKeyLookup", "HandWritten_PrimaryKeyLookup", "ride by primary key"),
                ("TopDriversBenchmarks", "Library_Top5", "HandWritten_Top5", "top 5 drivers"),
                ("DriverEarningsBenchmarks", "Library_Earnings", "HandWritten_Earnings", "driver earnings"),
            })
            {
                AtMost($"{label} ({size}): library / hand-written, time", 1.05, Quotient(Time(Find(type, library, size)), Time(Find(type, baseline, size))));
                AtMost($"{label} ({size}): library / hand-written, allocated", 1.25, Quotient(Bytes(Find(type, library, size)), Bytes(Find(type, baseline, size))));
            }
        }

        foreach (var (type, library, baseline, label) in new[]
        {
            ("PaymentFirstRecordBenchmarks", "Library_FirstRecord", "HandWritten_FirstRecord", "first payment record"),
            ("PaymentReplayBenchmarks", "Library_Replay", "HandWritten_Replay", "payment replay"),
        })
        {
            AtMost($"{label}: library / hand-written, time", 1.05, Quotient(Time(Find(type, library)), Time(Find(type, baseline))));
            AtMost($"{label}: library / hand-written, allocated", 1.25, Quotient(Bytes(Find(type, library)), Bytes(Find(type, baseline))));
        }

        var largest = sizeList[^1];
        var smallest = sizeList[0];
        AtMost($"latest 10 rides: library at {largest} / at {smallest}", 1.2, Quotient(Time(Find("LatestRidesBenchmarks", "Library_Latest10", largest)), Time(Find("LatestRidesBenchmarks", "Library_Latest10", smallest))));
        AtLeast($"latest 10 rides ({largest}): index ignored / library", 100, Quotient(Time(Find("LatestRidesBenchmarks", "IgnoredIndex_Latest10", largest)), Time(Find("LatestRidesBenchmarks", "Library_Latest10", largest))));
        AtLeast($"top 5 drivers ({largest}): brief's window query / library", 100, Quotient(Time(Find("TopDriversBenchmarks", "BriefWindowQuery_Top5", largest)), Time(Find("TopDriversBenchmarks", "Library_Top5", largest))));
        AtLeast($"driver earnings ({largest}): brief's GROUP BY / library", 100, Quotient(Time(Find("DriverEarningsBenchmarks", "BriefGroupBy_Earnings", largest)), Time(Find("DriverEarningsBenchmarks", "Library_Earnings", largest))));
        foreach (var clients in new[] { 1, 4, 16 })
        {
            var ratio = Quotient(Time(Find("BookingBenchmarks", "Brief_FiveRoundTrips", clients: clients)), Time(Find("BookingBenchmarks", "Library_BookAsync", clients: clients)));
            if (clients == 16)
            {
                AtLeast("booking throughput, 16 clients: library / brief's flow", 1.5, ratio);
            }
            else
            {
                AtLeast($"booking throughput, {clients} client(s): library / brief's flow", 1.0, ratio);
            }
        }

        AtLeast("16 clients on one hot driver: brief's flow / library, time per race", 1.0, Quotient(Time(Find("HotDriverBenchmarks", "Brief_HotDriver16")), Time(Find("HotDriverBenchmarks", "Library_HotDriver16"))));
        AtLeast($"latest 10 rides ({largest}): EF Core + Pomelo / library", 1.5, Quotient(Time(Find("EfCoreBenchmarks", "EfCore_Latest10", largest)), Time(Find("EfCoreBenchmarks", "Library_Latest10", largest))));
        AtLeast($"top 5 drivers ({largest}): EF Core + Pomelo (GROUP BY over rides) / library", 1.5, Quotient(Time(Find("EfCoreBenchmarks", "EfCore_Top5_GroupByRides", largest)), Time(Find("EfCoreBenchmarks", "Library_Top5", largest))));
        AtLeast($"top 5 drivers ({largest}): EF Core + Pomelo (same rollup) / library", 1.5, Quotient(Time(Find("EfCoreBenchmarks", "EfCore_Top5_Rollup", largest)), Time(Find("EfCoreBenchmarks", "Library_Top5", largest))));

        // Sharding: a 4-primary x 1-replica cluster of the test kit against one database of the suite's server.
        var sharding = new List<Claim>();
        void ShardingAtMost(string text, double limit, double? ratio) => sharding.Add(new Claim(text, $"<= {limit:0.##}x", limit, true, ratio));
        ShardingAtMost("user by id: 4 shards (replica) / one database, allocated", 1.10, Quotient(Bytes(Find("ShardedUserReadBenchmarks", "FourShards_GetUser")), Bytes(Find("ShardedUserReadBenchmarks", "OneDatabase_GetUser"))));
        ShardingAtMost("latest 10 rides: 4 shards (replica) / one database, allocated", 1.10, Quotient(Bytes(Find("ShardedLatestRidesBenchmarks", "FourShards_Latest10")), Bytes(Find("ShardedLatestRidesBenchmarks", "OneDatabase_Latest10"))));
        ShardingAtMost("book + cancel, one shard: 4 shards / one database, allocated", 1.10, Quotient(Bytes(Find("ShardedBookingBenchmarks", "FourShards_BookAndCancel")), Bytes(Find("ShardedBookingBenchmarks", "OneDatabase_BookAndCancel"))));
        ShardingAtMost("top 5 drivers: 4-shard fan-out / one database, time", 2.0, Quotient(Time(Find("ShardedTopDriversBenchmarks", "FourShards_Top5")), Time(Find("ShardedTopDriversBenchmarks", "OneDatabase_Top5"))));
        ShardingAtMost("replica read: satisfied read-your-writes wait / no wait, time", 1.2, Quotient(Time(Find("ShardedReplicaWaitBenchmarks", "SatisfiedWaitReplicaRead")), Time(Find("ShardedReplicaWaitBenchmarks", "PlainReplicaRead"))));
        sharding.Add(new Claim("round trips of a one-shard BookAsync on 4x1 (counted in setup)", "= 2", 2, true, facts.TryGetValue(ShardedBookingBenchmarks.RoundTripsFact, out var trips) ? trips : null, Exact: true));

        // Cross-shard operations on the same 4x1 cluster: a set of its own, so that running it alone leaves the other sharding files alone.
        var crossShard = new List<Claim>
        {
            new("book + cancel on 4x1: user and driver on different shards / on the same shard, time", "<= 2x", 2.0, true, Quotient(Time(Find("CrossShardBookingBenchmarks", "CrossShard_BookAndCancel")), Time(Find("CrossShardBookingBenchmarks", "SameShard_BookAndCancel")))),
            new("round trips of a same-shard BookAsync on 4x1 (counted in setup)", "= 2", 2, true, facts.TryGetValue(CrossShardBookingBenchmarks.SameShardRoundTripsFact, out var same) ? same : null, Exact: true),
            new("round trips of a cross-shard BookAsync on 4x1 (counted in setup)", "= 2", 2, true, facts.TryGetValue(CrossShardBookingBenchmarks.CrossShardRoundTripsFact, out var across) ? across : null, Exact: true),
        };

        var folder = ResultsFolder();
        Directory.CreateDirectory(folder);
        var machine = $"{CpuName()} ({Environment.ProcessorCount} logical cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB), {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, server {serverVersion}";
        foreach (var (set, prefix) in new[] { (claims, string.Empty), (sharding, "sharding-"), (crossShard, "cross-shard-") })
        {
            if (set.All(c => c.Ratio is null))
            {
                continue;
            }

            File.WriteAllText(Path.Combine(folder, prefix + "headline.md"), Markdown(set, machine));
            File.WriteAllText(Path.Combine(folder, prefix + "headline.svg"), Svg(set, machine));
            foreach (var summary in summaries)
            {
                var report = Directory.GetFiles(summary.ResultsDirectoryPath, "*-report-github.md").OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault();
                if (report is not null)
                {
                    File.Copy(report, Path.Combine(folder, prefix + "report.md"), overwrite: true);
                }
            }
        }

        return folder;
    }

    private static bool Met(Claim c) => c.Ratio is { } r && (c.Exact ? r == c.Limit : c.AtMost ? r <= c.Limit : r >= c.Limit);

    private static string Format(Claim c) => c.Exact && c.Ratio is { } count ? count.ToString("0", CultureInfo.InvariantCulture) : Format(c.Ratio);

    private static string Format(double? ratio) => ratio is { } r ? r.ToString(r >= 100 ? "N0" : "0.00", CultureInfo.InvariantCulture) + "x" : "not measured";

    private static string Markdown(List<Claim> claims, string machine)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Measured {DateTime.UtcNow:yyyy-MM-dd} on {machine}.");
        text.AppendLine();
        text.AppendLine("| Ratio (same run) | Target | Measured | Met |");
        text.AppendLine("|---|---|---|---|");
        foreach (var c in claims)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {c.Text} | {c.Target} | {Format(c)} | {(Met(c) ? "yes" : "**no**")} |");
        }

        return text.ToString();
    }

    /// <summary>One bar per ratio on a log scale, with its target as a tick; green when met, red when missed.</summary>
    private static string Svg(List<Claim> claims, string machine)
    {
        const int Left = 470, Width = 420, Row = 22, Top = 50;
        var height = Top + (claims.Count * Row) + 40;
        double X(double ratio) => Left + (Math.Clamp(Math.Log10(ratio), -1, 4) + 1) / 5 * Width;
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Left + Width + 90}" height="{height}" font-family="sans-serif" font-size="12">""");
        svg.AppendLine("""<rect width="100%" height="100%" fill="white"/>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="10" y="20" font-size="14" font-weight="bold">RideBooking.Data benchmark ratios (log scale; tick = target)</text>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="10" y="38" fill="#555">{Escape($"{DateTime.UtcNow:yyyy-MM-dd}, {machine}")}</text>""");
        foreach (var tick in new[] { 0.1, 1, 10, 100, 1000, 10000 })
        {
            var x = X(tick);
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<line x1="{x:F1}" y1="{Top - 6}" x2="{x:F1}" y2="{height - 30}" stroke="#ddd"/><text x="{x:F1}" y="{height - 15}" text-anchor="middle" fill="#555">{tick.ToString(CultureInfo.InvariantCulture)}x</text>""");
        }

        for (var i = 0; i < claims.Count; i++)
        {
            var c = claims[i];
            var y = Top + (i * Row);
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{Left - 8}" y="{y + 14}" text-anchor="end">{Escape(c.Text)}</text>""");
            if (c.Ratio is { } r)
            {
                var x0 = X(1);
                var x1 = X(r);
                svg.AppendLine(CultureInfo.InvariantCulture, $"""<rect x="{Math.Min(x0, x1):F1}" y="{y + 3}" width="{Math.Max(Math.Abs(x1 - x0), 1):F1}" height="14" fill="{(Met(c) ? "#3a9d5d" : "#d0453a")}"/>""");
                svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{Math.Max(x0, x1) + 4:F1}" y="{y + 14}">{Escape(Format(c))}</text>""");
            }

            var target = X(c.Limit);
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<line x1="{target:F1}" y1="{y + 1}" x2="{target:F1}" y2="{y + 19}" stroke="black" stroke-width="2"/>""");
        }

        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static string CpuName()
    {
        const string CpuInfo = "/proc/cpuinfo";
        var model = File.Exists(CpuInfo) ? File.ReadLines(CpuInfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) : null;
        return model is null ? System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString() : model[(model.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string ResultsFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RideBooking.Data.sln")))
            {
                return Path.Combine(dir.FullName, "benchmarks", "results");
            }
        }

        return Path.Combine(Directory.GetCurrentDirectory(), "benchmarks-results");
    }
}
