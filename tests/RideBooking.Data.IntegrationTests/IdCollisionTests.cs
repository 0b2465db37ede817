using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RideBooking.Data.Internal;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// Two processes with the same worker id at the same instant generate the same ids. The primary key of the table
/// (on the one shard that the id names) refuses the second, and the library retries with a new id: never merging
/// two callers' rows, never failing the caller.
/// </summary>
public sealed class IdCollisionTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private sealed class FrozenTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static readonly FrozenTime Instant = new(new DateTimeOffset(2026, 11, 27, 9, 30, 0, TimeSpan.Zero));

    private readonly List<Counter> _counters = [];

    /// <summary>A fresh "process": worker 5, round robin starting at logical shard 0, the same frozen clock.</summary>
    private ServiceProvider Process()
    {
        var provider = DatabaseFixture.BuildServices(db.ConnectionString, register: services =>
        {
            services.AddSingleton<TimeProvider>(Instant);
            services.AddSingleton(new IdGenerator(Instant, 5, firstSpreadShard: 0));
        });
        _counters.Add(new Counter(provider.GetRequiredService<RideBookingMetrics>().Meter));
        return provider;
    }

    [Fact]
    public async Task Users_drivers_rides_and_payments_with_a_colliding_id_are_stored_under_a_new_id()
    {
        await using var a = Process();
        await using var b = Process();
        var first = await a.GetRequiredService<IUserRepository>().CreateAsync("First", db.NextPhone());
        var second = await b.GetRequiredService<IUserRepository>().CreateAsync("Second", db.NextPhone());
        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(first, await db.Users.GetAsync(first.Id));
        Assert.Equal(second, await db.Users.GetAsync(second.Id));

        await using var c = Process();
        await using var d = Process();
        var driverOne = await c.GetRequiredService<IDriverRepository>().CreateAsync("One", "KA-1");
        var driverTwo = await d.GetRequiredService<IDriverRepository>().CreateAsync("Two", "KA-2");
        Assert.NotEqual(driverOne.Id, driverTwo.Id);
        Assert.Equal(driverTwo, await db.Drivers.GetAsync(driverTwo.Id));

        // Two users on the same logical shard: fresh processes give their rides (and payments) the same first id.
        await using var e = Process();
        await using var f = Process();
        var userOne = await e.GetRequiredService<IUserRepository>().CreateAsync("U1", db.NextPhone());
        await using var g = Process();
        var userTwo = await g.GetRequiredService<IUserRepository>().CreateAsync("U2", db.NextPhone());
        Assert.Equal(IdGenerator.LogicalShardOf(userOne.Id), IdGenerator.LogicalShardOf(userTwo.Id));
        await using var h = Process();
        await using var i = Process();
        var rideOne = await h.GetRequiredService<IRideBookingService>().BookAsync(userOne.Id, driverOne.Id, 10m);
        var rideTwo = await i.GetRequiredService<IRideBookingService>().BookAsync(userTwo.Id, driverTwo.Id, 20m);
        Assert.NotEqual(rideOne.Id, rideTwo.Id);
        Assert.Equal(rideOne, await db.Rides.GetAsync(rideOne.Id));
        Assert.Equal(rideTwo, await db.Rides.GetAsync(rideTwo.Id));
        Assert.False((await db.Drivers.GetAsync(driverTwo.Id))!.Available);

        foreach (var ride in new[] { rideOne, rideTwo })
        {
            await db.Booking.AcceptAsync(ride.Id, ride.DriverId);
            await db.Booking.CompleteAsync(ride.Id);
        }

        await using var j = Process();
        await using var k = Process();
        var paidOne = await j.GetRequiredService<IPaymentRepository>().RecordAsync(rideOne.Id, "txn-collide-1-" + Guid.NewGuid(), 10m);
        var paidTwo = await k.GetRequiredService<IPaymentRepository>().RecordAsync(rideTwo.Id, "txn-collide-2-" + Guid.NewGuid(), 20m);
        Assert.False(paidTwo.AlreadyRecorded);
        Assert.NotEqual(paidOne.Payment.Id, paidTwo.Payment.Id);
        Assert.Equal(paidTwo.Payment, await db.Payments.GetByTransactionIdAsync(paidTwo.Payment.TransactionId));

        await using var connection = await db.OpenAsync();
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM payments WHERE ride_id IN @ids", new { ids = new[] { rideOne.Id, rideTwo.Id } }));
        // b, d, i and k collide once each; e twice (a's and b's users), g three times (a's, b's and e's).
        Assert.Equal(9, _counters.Sum(c => c.Count));
        _counters.ForEach(c => c.Dispose());
    }

    /// <summary>Counts the id collisions of one process's meter.</summary>
    private sealed class Counter : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private long _count;

        public Counter(System.Diagnostics.Metrics.Meter meter)
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == "ridebooking.id.collisions")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}
