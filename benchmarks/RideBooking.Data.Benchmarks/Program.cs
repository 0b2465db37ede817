using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Dapper;
using MySqlConnector;
using RideBooking.Data.Benchmarks;
using RideBooking.Data.Testing.Internal;

// Options of this suite; everything else goes to BenchmarkDotNet (for example --filter '*').
//   --smoke          BenchmarkDotNet's dry job, in process, on a tiny data set (what CI runs)
//   --sizes 10k,1m   data sets to seed and measure (10m is available)
//   --short          BenchmarkDotNet's short job (3 warmups, 3 iterations), in process: a quick measurement of a few cases
var smoke = args.Contains("--smoke");
var shortRun = args.Contains("--short");
var sizesAt = Array.IndexOf(args, "--sizes");
var sizes = smoke ? "tiny" : sizesAt >= 0 && sizesAt + 1 < args.Length ? args[sizesAt + 1] : "10k,1m";
var benchmarkArgs = args.Where((a, i) => a != "--smoke" && a != "--short" && i != sizesAt && (sizesAt < 0 || i != sizesAt + 1)).ToArray();
if (smoke && !benchmarkArgs.Contains("--filter"))
{
    benchmarkArgs = [.. benchmarkArgs, "--filter", "*"];
}

Environment.SetEnvironmentVariable(BenchmarkData.SizesVariable, sizes);

// The server: RIDEBOOKING_MYSQL, or a throwaway one from the test kit that lives as long as this
// process. BenchmarkDotNet's child processes inherit the variable and connect to the same server.
if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("RIDEBOOKING_MYSQL")))
{
    var server = await TestServerLocator.Shared.GetAsync(CancellationToken.None);
    Environment.SetEnvironmentVariable("RIDEBOOKING_MYSQL", server.ConnectionString);
    Console.WriteLine($"server: {server.Description} (throwaway, from {server.Source})");
}

// Redis for the cache cases: RIDEBOOKING_REDIS, or a throwaway redis-server from the test kit that lives as long as
// this process (children inherit the variable). Without either, only the cache cases fail, saying how to provide one.
RideBooking.Data.Testing.RideBookingTestRedis? redis = null;
if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("RIDEBOOKING_REDIS")) && LocalRedis.FindBinary() is not null)
{
    redis = await RideBooking.Data.Testing.RideBookingTestRedis.CreateAsync();
    Environment.SetEnvironmentVariable("RIDEBOOKING_REDIS", redis.ConnectionString);
    Console.WriteLine($"redis: {redis.Description} (throwaway)");
}

string serverVersion;
await using (var connection = new MySqlConnection(BenchmarkData.ServerConnectionString))
{
    await connection.OpenAsync();
    serverVersion = await connection.ExecuteScalarAsync<string>("SELECT VERSION()") ?? "unknown";
}

Console.WriteLine($"server version: {serverVersion}; data sets: {sizes}");
foreach (var size in sizes.Split(','))
{
    await BenchmarkData.EnsureSeededAsync(BenchmarkData.Size(size), Console.Out);
}

var job = smoke
    ? Job.Dry.WithToolchain(InProcessEmitToolchain.Instance)
    : shortRun
        ? Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance)
        : Job.Default.WithWarmupCount(5).WithIterationCount(20);
var config = DefaultConfig.Instance
    .AddJob(job)
    .AddDiagnoser(MemoryDiagnoser.Default)
    .AddColumn(CategoriesColumn.Default)
    // One joined table, each question (category) with its own baseline.
    .AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)
    .WithOptions(ConfigOptions.JoinSummary | ConfigOptions.DisableLogFile);

Type[] suites =
[
    typeof(LatestRidesBenchmarks), typeof(TopDriversBenchmarks), typeof(DriverEarningsBenchmarks),
    typeof(BookingBenchmarks), typeof(HotDriverBenchmarks), typeof(CommitFormBenchmarks),
    typeof(PaymentFirstRecordBenchmarks), typeof(PaymentReplayBenchmarks), typeof(EfCoreBenchmarks), typeof(DapperAotBenchmarks),
    typeof(ShardedUserReadBenchmarks), typeof(ShardedLatestRidesBenchmarks), typeof(ShardedBookingBenchmarks),
    typeof(ShardedTopDriversBenchmarks), typeof(ShardedReplicaWaitBenchmarks),
    typeof(CrossShardBookingBenchmarks), typeof(CrossShardThroughputBenchmarks), typeof(CrossShardRecoveryBenchmarks),
    typeof(TelemetryBenchmarks), typeof(TelemetryLayerBenchmarks),
    typeof(CacheBenchmarks),
    typeof(ConnectionRetryBenchmarks),
];

// Numbers the benchmarks' setups measure once (round trips) reach the headline through this file.
var factsFile = Path.Combine(Path.GetTempPath(), $"ridebooking-bench-facts-{Environment.ProcessId}.txt");
File.Delete(factsFile);
Environment.SetEnvironmentVariable(BenchmarkFacts.FileVariable, factsFile);

var summaries = BenchmarkSwitcher.FromTypes(suites).Run(benchmarkArgs, config).ToList();

var failed = summaries.SelectMany(s => s.Reports).Count(r => !r.Success) + summaries.Count(s => s.HasCriticalValidationErrors);
if (summaries.Count == 0 || summaries.All(s => s.Reports.IsEmpty))
{
    Console.WriteLine("No benchmark ran.");
    return 1;
}

if (!smoke)
{
    var written = Headline.Write(summaries, serverVersion, sizes, BenchmarkFacts.Read());
    Console.WriteLine($"headline ratios and chart written to {written}");
}

File.Delete(factsFile);
if (redis is not null)
{
    await redis.DisposeAsync();
}

foreach (var report in summaries.SelectMany(s => s.Reports).Where(r => !r.Success))
{
    Console.WriteLine($"benchmarks: failed: {report.BenchmarkCase.DisplayInfo}");
}

foreach (var error in summaries.Where(s => s.HasCriticalValidationErrors).SelectMany(s => s.ValidationErrors))
{
    Console.WriteLine($"benchmarks: invalid: {error.Message}");
}

Console.WriteLine(failed == 0 ? "benchmarks: all cases ran" : $"benchmarks: {failed} case(s) failed");
return failed == 0 ? 0 : 1;
