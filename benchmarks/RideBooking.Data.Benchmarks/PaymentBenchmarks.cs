using BenchmarkDotNet.Attributes;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;

namespace RideBooking.Data.Benchmarks;

/// <summary>The payments benchmarks' common parts: the hand-written idempotent insert, and completed rides to pay.</summary>
public abstract class PaymentBenchmarkBase : WriteBenchmarkBase
{
    /// <summary>The same statements the library sends, run and interpreted by hand.</summary>
    private const string RecordSql = """
        INSERT INTO payments (id, ride_id, transaction_id, amount, status, created_at, updated_at)
        SELECT @Id, r.id, @TransactionId, @Amount, 'PENDING', @Now, @Now
        FROM rides r WHERE r.id = @RideId AND r.status = 'COMPLETED'
        ON DUPLICATE KEY UPDATE payments.id = payments.id;
        SELECT id, ride_id, transaction_id, amount, status, created_at FROM payments WHERE transaction_id = @TransactionId;
        SELECT status FROM rides WHERE id = @RideId;
        """;

    protected IPaymentRepository Payments { get; private set; } = null!;

    protected override int PoolSize => 16;

    protected override async Task GlobalSetupAsync()
    {
        await base.GlobalSetupAsync();
        Payments = Services.GetRequiredService<IPaymentRepository>();
    }

    /// <summary>Inserts completed rides (cycling over the pool's users and drivers) and returns their ids.</summary>
    protected long[] CreateCompletedRides(int count)
    {
        var ids = Enumerable.Range(0, count).Select(_ => Ids.Next()).ToArray();
        using var connection = new MySqlConnection(ConnectionString);
        connection.Open();
        connection.Execute(
            MultiRow("INSERT INTO rides (id, user_id, driver_id, status, fare, created_at, updated_at) VALUES ", count, "(@Id{0}, @User{0}, @Driver{0}, 'COMPLETED', 42.50, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))"),
            Parameters(count, i => new[] { ("Id", (object)ids[i]), ("User", UserId(i % PoolSize)), ("Driver", DriverId(i % PoolSize)) }));
        return ids;
    }

    protected async Task<PaymentResult> HandWrittenRecordAsync(long rideId, string transactionId, decimal amount)
    {
        var id = Ids.Next();
        var now = DateTime.UtcNow;
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(RecordSql, connection);
        command.Parameters.AddWithValue("@Id", id);
        command.Parameters.AddWithValue("@RideId", rideId);
        command.Parameters.AddWithValue("@TransactionId", transactionId);
        command.Parameters.AddWithValue("@Amount", amount);
        command.Parameters.AddWithValue("@Now", now.AddTicks(-(now.Ticks % 10)));
        await using var reader = await command.ExecuteReaderAsync();
        Payment? stored = null;
        if (await reader.ReadAsync())
        {
            stored = new Payment(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetDecimal(3), HandWritten.ParsePaymentStatus(reader.GetString(4)), reader.GetDateTime(5));
        }

        await reader.NextResultAsync();
        var rideCompleted = await reader.ReadAsync() && reader.GetString(0) == "COMPLETED";
        if (stored is null || !rideCompleted || stored.RideId != rideId || stored.Amount != amount)
        {
            throw new InvalidOperationException("The benchmark's payment was refused.");
        }

        return new PaymentResult(stored, AlreadyRecorded: stored.Id != id);
    }
}

/// <summary>Recording a payment for the first time: one new row per call.</summary>
[InvocationCount(Invocations, unrollFactor: 1)]
[BenchmarkCategory("Payment: first record")]
public class PaymentFirstRecordBenchmarks : PaymentBenchmarkBase
{
    private const int Invocations = 64;

    private long[] _rides = [];
    private int _next;

    [IterationSetup]
    public void IterationSetup()
    {
        _rides = CreateCompletedRides(Invocations);
        _next = 0;
    }

    [Benchmark(Baseline = true)]
    public Task<PaymentResult> HandWritten_FirstRecord()
    {
        var ride = _rides[_next++];
        return HandWrittenRecordAsync(ride, "bench-" + ride, 42.50m);
    }

    [Benchmark]
    public Task<PaymentResult> Library_FirstRecord()
    {
        var ride = _rides[_next++];
        return Payments.RecordAsync(ride, "bench-" + ride, 42.50m);
    }
}

/// <summary>Replaying a recorded payment: nothing is written, the stored payment comes back.</summary>
[BenchmarkCategory("Payment: replay")]
public class PaymentReplayBenchmarks : PaymentBenchmarkBase
{
    private long _ride;
    private string _transactionId = string.Empty;

    protected override async Task GlobalSetupAsync()
    {
        await base.GlobalSetupAsync();
        _ride = CreateCompletedRides(1)[0];
        _transactionId = "bench-replay-" + _ride;
        await Payments.RecordAsync(_ride, _transactionId, 42.50m);
    }

    [Benchmark(Baseline = true)]
    public Task<PaymentResult> HandWritten_Replay() => HandWrittenRecordAsync(_ride, _transactionId, 42.50m);

    [Benchmark]
    public Task<PaymentResult> Library_Replay() => Payments.RecordAsync(_ride, _transactionId, 42.50m);
}
