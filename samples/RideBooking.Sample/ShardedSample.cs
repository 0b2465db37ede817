// The sharded tour: users and drivers spread over physical shards, a booking on one shard, a booking whose
// user and driver live on different shards, and a read served by a replica. Configure RideBooking:Shards:0:Primary, RideBooking:Shards:0:Replicas:0, ...;
// without them, a throwaway cluster of 4 primaries with 1 replica each is started for the run.
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MySqlConnector;
using RideBooking.Data;
using RideBooking.Data.Testing;

namespace RideBooking.Sample;

internal static class ShardedSample
{
    public static async Task<int> RunAsync(HostApplicationBuilder builder)
    {
        var startedAt = Stopwatch.GetTimestamp();
        RideBookingTestCluster? throwaway = null;
        try
        {
            var configured = builder.Configuration.GetSection("RideBooking:Shards").GetChildren().Any();
            if (!configured)
            {
                Console.WriteLine("Sharded mode, no RideBooking:Shards configured: starting a throwaway cluster of 4 primaries x 1 replica (RideBooking.Data.Testing)...");
                throwaway = await RideBookingTestCluster.CreateAsync(shards: 4, replicasPerShard: 1);
                Console.WriteLine($"Ready in {Stopwatch.GetElapsedTime(startedAt).TotalSeconds:F1} s; database {throwaway.DatabaseName} is dropped at exit.");
                for (var i = 0; i < throwaway.Shards.Count; i++)
                {
                    Console.WriteLine($"  shard {i}: {throwaway.Shards[i]}"); // endpoints only, no credentials
                }

                // The same keys a deployment would set in appsettings.json or as RideBooking__Shards__0__Primary.
                builder.Configuration["RideBooking:ConnectionString"] = "";
                for (var i = 0; i < throwaway.Shards.Count; i++)
                {
                    builder.Configuration[$"RideBooking:Shards:{i}:Primary"] = throwaway.Shards[i].Primary;
                    for (var r = 0; r < throwaway.Shards[i].Replicas.Count; r++)
                    {
                        builder.Configuration[$"RideBooking:Shards:{i}:Replicas:{r}"] = throwaway.Shards[i].Replicas[r];
                    }
                }
            }

            builder.Services.AddRideBookingData(builder.Configuration.GetSection("RideBooking"));
            using var host = builder.Build();
            using var reads = new ReadCounter(); // listens to the library's ridebooking.reads counter
            await host.StartAsync(); // validates the options

            // Physical shard i is Shards[i]; the sample reads the primaries' connection strings only to check rows from outside.
            var primaries = host.Services.GetRequiredService<IOptions<RideBookingOptions>>().Value.Shards.Select(s => s.Primary!).ToList();
            if (configured)
            {
                Console.WriteLine($"Applying the schema scripts to the primary of each of the {primaries.Count} configured shards (idempotent)...");
                for (var i = 0; i < primaries.Count; i++)
                {
                    try
                    {
                        await RideBookingSchema.ApplyAsync(primaries[i]);
                    }
                    catch (MySqlException ex)
                    {
                        throw new InvalidOperationException($"The primary of shard {i} did not take the schema scripts: {ex.Message}", ex);
                    }
                }
            }

            var users = host.Services.GetRequiredService<IUserRepository>();
            var drivers = host.Services.GetRequiredService<IDriverRepository>();
            var payments = host.Services.GetRequiredService<IPaymentRepository>();
            var booking = host.Services.GetRequiredService<IRideBookingService>();
            var resolver = host.Services.GetRequiredService<IShardResolver>();
            var readYourWrites = host.Services.GetRequiredService<IReadYourWrites>();

            // New users and drivers take the logical shards in turn; the shard map places each on a physical shard.
            Console.WriteLine($"{resolver.LogicalShardCount} logical shards on {resolver.PhysicalShardCount} physical shards.");
            var run = Random.Shared.Next(100_000, 999_999); // phone numbers are unique: keeps reruns apart
            var riders = new List<User>();
            foreach (var name in new[] { "Asha", "Ben", "Chen", "Dana" })
            {
                var user = await users.CreateAsync(name, $"+9181{run}{riders.Count:D2}");
                riders.Add(user);
                Console.WriteLine($"  user   {user.Name,-5} id {user.Id}  logical shard {resolver.LogicalShardOf(user.Id),3}  physical shard {resolver.PhysicalShardOf(user.Id)}");
            }

            var fleet = new List<Driver>();
            foreach (var name in new[] { "Ravi", "Mei", "Omar", "Lena" })
            {
                var driver = await drivers.CreateAsync(name, $"KA-0{fleet.Count + 1}-AB-{run % 10_000:D4}");
                fleet.Add(driver);
                Console.WriteLine($"  driver {driver.Name,-5} id {driver.Id}  logical shard {resolver.LogicalShardOf(driver.Id),3}  physical shard {resolver.PhysicalShardOf(driver.Id)}");
            }

            // A booking of a user and a driver that live on the same physical shard is one local transaction there.
            var pair = riders
                .SelectMany(u => fleet.Select(d => (User: u, Driver: d)))
                .FirstOrDefault(p => resolver.PhysicalShardOf(p.User.Id) == resolver.PhysicalShardOf(p.Driver.Id));
            if (pair.User is null)
            {
                throw new InvalidOperationException("No user and driver landed on the same physical shard; run again with fewer shards or more users and drivers.");
            }

            var (rider, chauffeur) = pair;
            var shard = resolver.PhysicalShardOf(rider.Id);
            Console.WriteLine($"{rider.Name} and {chauffeur.Name} both live on physical shard {shard}.");

            var ride = await booking.BookAsync(rider.Id, chauffeur.Id, 249.50m);
            ride = await booking.AcceptAsync(ride.Id, chauffeur.Id);
            ride = await booking.CompleteAsync(ride.Id);
            var transactionId = $"psp-{run}-{ride.Id}";
            var payment = (await payments.RecordAsync(ride.Id, transactionId, ride.Fare)).Payment;
            payment = await payments.SetStatusAsync(transactionId, PaymentStatus.Succeeded);
            Console.WriteLine($"Ride {ride.Id} booked, accepted and completed ({ride.Status}, fare {ride.Fare}); payment {payment.Id} {payment.Status}.");

            // Check from outside: a plain SELECT COUNT(*) on every primary finds each row on its shard only.
            foreach (var (what, table, id) in new[] { ("user", "users", rider.Id), ("driver", "drivers", chauffeur.Id), ("ride", "rides", ride.Id), ("payment", "payments", payment.Id) })
            {
                await ExpectOnShardAsync(primaries, what, table, "id", id, resolver.PhysicalShardOf(id));
            }

            // A booking across shards: the ride (and later its payment) lives with the user; the driver is held on the
            // driver's shard while the ride is active, and the completion releases the driver and adds the fare there.
            var across = riders.Where(u => u != rider)
                .SelectMany(u => fleet.Where(d => d != chauffeur).Select(d => (User: u, Driver: d)))
                .FirstOrDefault(p => resolver.PhysicalShardOf(p.User.Id) != resolver.PhysicalShardOf(p.Driver.Id));
            if (across.User is null)
            {
                throw new InvalidOperationException("No user and driver landed on different physical shards; run again with more shards.");
            }

            var (traveller, remote) = across;
            var userShard = resolver.PhysicalShardOf(traveller.Id);
            var driverShard = resolver.PhysicalShardOf(remote.Id);
            Console.WriteLine($"{traveller.Name} lives on physical shard {userShard}, {remote.Name} on physical shard {driverShard}: a cross-shard booking.");
            var crossRide = await booking.BookAsync(traveller.Id, remote.Id, 180m);
            Console.WriteLine($"Ride {crossRide.Id} booked ({crossRide.Status}):");
            await ExpectOnShardAsync(primaries, "ride", "rides", "id", crossRide.Id, userShard);
            await ExpectOnShardAsync(primaries, $"hold of {remote.Name} for ride", "driver_holds", "ride_id", crossRide.Id, driverShard);
            crossRide = await booking.AcceptAsync(crossRide.Id, remote.Id);
            Console.WriteLine($"Ride {crossRide.Id} accepted ({crossRide.Status}); {remote.Name} is still held on shard {driverShard}.");
            await ExpectOnShardAsync(primaries, $"hold of {remote.Name} for ride", "driver_holds", "ride_id", crossRide.Id, driverShard);
            crossRide = await booking.CompleteAsync(crossRide.Id);
            var crossTransactionId = $"psp-{run}-{crossRide.Id}";
            var crossPayment = (await payments.RecordAsync(crossRide.Id, crossTransactionId, crossRide.Fare)).Payment;
            crossPayment = await payments.SetStatusAsync(crossTransactionId, PaymentStatus.Succeeded);
            Console.WriteLine($"Ride {crossRide.Id} completed ({crossRide.Status}, fare {crossRide.Fare}); payment {crossPayment.Id} {crossPayment.Status}:");
            await ExpectOnShardAsync(primaries, "ride", "rides", "id", crossRide.Id, userShard);
            await ExpectOnShardAsync(primaries, "payment", "payments", "id", crossPayment.Id, userShard);
            var holds = await ShardsHoldingAsync(primaries, "driver_holds", "ride_id", crossRide.Id);
            if (holds.Count != 0)
            {
                throw new InvalidOperationException($"The hold for ride {crossRide.Id} is still on shards [{string.Join(", ", holds)}] after the completion.");
            }

            Console.WriteLine($"  hold of {remote.Name} released (no shard holds it)");
            await ExpectOnShardAsync(primaries, $"earnings of {remote.Name}", "driver_earnings", "driver_id", remote.Id, driverShard);
            var earned = (await host.Services.GetRequiredService<IRideRepository>().GetDriverEarningsAsync()).Single(e => e.DriverId == remote.Id);
            Console.WriteLine($"  {remote.Name} has earnings {earned.TotalEarnings}; available again: {await IsAvailableAsync(primaries[driverShard], remote.Id)}");

            // Reads outside a transaction go to a replica in rotation. The lag watch checks each replica when the
            // library starts and every ReplicaCheckInterval after that; until a replica's first check, its reads go
            // to the primary. Within this process a replica read also waits for this process's own writes.
            var replicaReads = reads.Count(shard, "replica");
            var primaryReads = reads.Count(shard, "primary");
            var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 30;
            var readBack = await users.GetAsync(rider.Id);
            while (reads.Count(shard, "replica") == replicaReads)
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    throw new InvalidOperationException($"No read was served by a replica of shard {shard} within 30 s (is its replication running?).");
                }

                await Task.Delay(100);
                readBack = await users.GetAsync(rider.Id);
            }

            var toPrimary = reads.Count(shard, "primary") - primaryReads;
            Console.WriteLine($"Read {readBack?.Name} ({rider.Id}) back: served by the replica of shard {shard}" +
                (toPrimary > 0 ? $" ({toPrimary} earlier read(s) went to the primary while the replica was not yet in rotation)." : "."));

            // To read your writes in another process (say, the next HTTP request), send this token along and wrap the
            // reads there in readYourWrites.RequireToken(token).
            Console.WriteLine($"Read-your-writes token: {readYourWrites.CaptureToken()}");

            await host.StopAsync();
            Console.WriteLine($"Done in {Stopwatch.GetElapsedTime(startedAt).TotalSeconds:F1} s.");
            return 0;
        }
#pragma warning disable CA1031 // The sample reports every failure and exits non-zero.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Console.Error.WriteLine($"The sample failed: {ex.GetType().Name}: {ex.Message}");
            return 1;
        }
        finally
        {
            if (throwaway is not null)
            {
                await throwaway.DisposeAsync();
            }
        }
    }

    /// <summary>Fails unless the row of <paramref name="table"/> with this key is on <paramref name="expected"/> only; prints where it is.</summary>
    private static async Task ExpectOnShardAsync(List<string> primaries, string what, string table, string key, long id, int expected)
    {
        var holding = await ShardsHoldingAsync(primaries, table, key, id);
        if (holding.Count != 1 || holding[0] != expected)
        {
            throw new InvalidOperationException($"{what} {id} should be on shard {expected} only, but SELECT COUNT(*) found it on shards [{string.Join(", ", holding)}].");
        }

        Console.WriteLine($"  {what} {id} found on shard {expected} only");
    }

    private static async Task<bool> IsAvailableAsync(string primary, long driverId)
    {
        await using var connection = new MySqlConnection(primary);
        await connection.OpenAsync();
        await using var command = new MySqlCommand("SELECT available FROM drivers WHERE id = @id", connection);
        command.Parameters.AddWithValue("@id", driverId);
        return Convert.ToBoolean(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The physical shards whose primary holds the row of <paramref name="table"/> whose <paramref name="key"/> is this id.</summary>
    private static async Task<List<int>> ShardsHoldingAsync(List<string> primaries, string table, string key, long id)
    {
        var holding = new List<int>();
        for (var shard = 0; shard < primaries.Count; shard++)
        {
            await using var connection = new MySqlConnection(primaries[shard]);
            await connection.OpenAsync();
            // The table and column names are the sample's own constants, never input.
            await using var command = new MySqlCommand($"SELECT COUNT(*) FROM {table} WHERE {key} = @id", connection);
            command.Parameters.AddWithValue("@id", id);
            if (Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture) > 0)
            {
                holding.Add(shard);
            }
        }

        return holding;
    }

    /// <summary>
    /// Sums the library's <c>ridebooking.reads</c> counter (meter "RideBooking.Data") by its tags: <c>shard</c>, the physical
    /// shard, and <c>target</c>, the server that served the read (<c>replica</c> or <c>primary</c>).
    /// </summary>
    private sealed class ReadCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<(int Shard, string Target), long> _counts = [];

        public ReadCounter()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "RideBooking.Data" && instrument.Name == "ridebooking.reads")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                int? shard = null;
                string? target = null;
                foreach (var tag in tags)
                {
                    if (tag.Key == "shard")
                    {
                        shard = Convert.ToInt32(tag.Value, System.Globalization.CultureInfo.InvariantCulture);
                    }
                    else if (tag.Key == "target")
                    {
                        target = tag.Value as string;
                    }
                }

                if (shard is { } s && target is not null)
                {
                    lock (_counts)
                    {
                        _counts[(s, target)] = _counts.GetValueOrDefault((s, target)) + value;
                    }
                }
            });
            _listener.Start();
        }

        public long Count(int shard, string target)
        {
            lock (_counts)
            {
                return _counts.GetValueOrDefault((shard, target));
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
