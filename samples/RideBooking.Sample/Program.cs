// A host that uses RideBooking.Data as an application would. Configure RideBooking:ConnectionString
// (appsettings.json, the RideBooking__ConnectionString environment variable, or
// --RideBooking:ConnectionString=...); without one, a throwaway database is started for the run.
// With --sharded (or RideBooking:Sharded=true) it runs the sharded tour of ShardedSample.cs instead.
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RideBooking.Data;
using RideBooking.Sample;
using RideBooking.Data.Testing;

// "--sharded" is a flag, not a "--key value" pair: keep it away from the command-line configuration provider.
var shardedFlag = args.Contains("--sharded");
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [.. args.Where(a => a != "--sharded")], ContentRootPath = AppContext.BaseDirectory });
if (shardedFlag || builder.Configuration.GetValue<bool>("RideBooking:Sharded"))
{
    return await ShardedSample.RunAsync(builder);
}

RideBookingTestDatabase? throwaway = null;
try
{
    var configured = builder.Configuration["RideBooking:ConnectionString"];
    if (string.IsNullOrWhiteSpace(configured))
    {
        Console.WriteLine("No RideBooking:ConnectionString is configured: starting a throwaway database (RideBooking.Data.Testing)...");
        var startedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        throwaway = await RideBookingTestDatabase.CreateAsync();
        Console.WriteLine($"Using {throwaway.ServerDescription}, from {throwaway.Source}, ready in {System.Diagnostics.Stopwatch.GetElapsedTime(startedAt).TotalSeconds:F1} s; database {throwaway.DatabaseName} is dropped at exit.");
        builder.Configuration["RideBooking:ConnectionString"] = throwaway.ConnectionString;
    }
    else
    {
        Console.WriteLine("Applying the schema scripts to the configured database (idempotent)...");
        await RideBookingSchema.ApplyAsync(configured);
    }

    builder.Services.AddRideBookingData(builder.Configuration.GetSection("RideBooking"));
    using var host = builder.Build();
    await host.StartAsync();

    var users = host.Services.GetRequiredService<IUserRepository>();
    var drivers = host.Services.GetRequiredService<IDriverRepository>();
    var rides = host.Services.GetRequiredService<IRideRepository>();
    var payments = host.Services.GetRequiredService<IPaymentRepository>();
    var booking = host.Services.GetRequiredService<IRideBookingService>();

    // Phone numbers are unique; a suffix keeps reruns against the same database apart.
    var run = Random.Shared.Next(100_000, 999_999);
    var asha = await users.CreateAsync("Asha", $"+9180{run}01");
    var ben = await users.CreateAsync("Ben", $"+9180{run}02");
    var ravi = await drivers.CreateAsync("Ravi", "KA-01-AB-1234");
    var mei = await drivers.CreateAsync("Mei", "KA-02-CD-5678");
    Console.WriteLine($"Created users {asha.Name} ({asha.Id}), {ben.Name} ({ben.Id}) and drivers {ravi.Name} ({ravi.Id}), {mei.Name} ({mei.Id}).");

    var ride = await booking.BookAsync(asha.Id, ravi.Id, 249.50m);
    Console.WriteLine($"{asha.Name} booked ride {ride.Id} with {ravi.Name}: {ride.Status}, fare {ride.Fare}.");
    try
    {
        await booking.BookAsync(ben.Id, ravi.Id, 120m);
    }
    catch (DriverUnavailableException ex)
    {
        Console.WriteLine($"{ben.Name} tried to book {ravi.Name} too: refused ({ex.Message})");
    }

    ride = await booking.AcceptAsync(ride.Id, ravi.Id);
    Console.WriteLine($"{ravi.Name} accepted ride {ride.Id}: {ride.Status}.");
    ride = await booking.CompleteAsync(ride.Id);
    Console.WriteLine($"Ride {ride.Id} completed: {ride.Status}; {ravi.Name} is available again.");

    var second = await booking.BookAsync(ben.Id, mei.Id, 310m);
    await booking.AcceptAsync(second.Id, mei.Id);
    await booking.CompleteAsync(second.Id);
    var third = await booking.BookAsync(asha.Id, mei.Id, 99.99m);
    await booking.CancelAsync(third.Id);
    Console.WriteLine($"{ben.Name} rode with {mei.Name} (completed); {asha.Name} booked and cancelled ride {third.Id}.");

    var transactionId = $"psp-{run}-{ride.Id}";
    var first = await payments.RecordAsync(ride.Id, transactionId, ride.Fare);
    Console.WriteLine($"Payment {first.Payment.Id} for ride {ride.Id} recorded: {first.Payment.Amount} {first.Payment.Status}, already recorded: {first.AlreadyRecorded}.");
    var replay = await payments.RecordAsync(ride.Id, transactionId, ride.Fare);
    Console.WriteLine($"Recorded again with the same transaction id: payment {replay.Payment.Id}, already recorded: {replay.AlreadyRecorded} (not charged twice).");
    var settled = await payments.SetStatusAsync(transactionId, PaymentStatus.Succeeded);
    Console.WriteLine($"Payment {settled.Id} settled: {settled.Status}.");

    Console.WriteLine($"Latest rides of {asha.Name}:");
    foreach (var r in await rides.GetLatestForUserAsync(asha.Id, 10))
    {
        Console.WriteLine($"  ride {r.Id}  {r.Status,-9}  fare {r.Fare,8}  driver {r.DriverId}  booked {r.CreatedAt:u}");
    }

    Console.WriteLine("Top drivers by earnings:");
    foreach (var d in await rides.GetTopDriversAsync(5))
    {
        Console.WriteLine($"  #{d.Rank}  driver {d.DriverId}  earned {d.Earnings}");
    }

    await host.StopAsync();
    Console.WriteLine("Done.");
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
