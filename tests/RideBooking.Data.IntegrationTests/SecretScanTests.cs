using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Testing;
using Xunit.Abstractions;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// A fault run on a server of its own: users with known phone numbers are created, read and booked while the server
/// runs, while it is down (killed) and right after it restarts (every pooled connection is stale), and with a wrong
/// password. Every log line (all categories and levels, through an <c>ILoggerProvider</c>), every exception the caller
/// sees (<c>ToString()</c>, inner exceptions included) and every metric tag (the library's meter and MySqlConnector's,
/// through a <see cref="MeterListener"/>) is kept and scanned: none may hold the password, the user name with the
/// password, a connection string or a phone number.
/// </summary>
public sealed class SecretScanTests(ITestOutputHelper output)
{
    private readonly ConcurrentQueue<string> _exceptions = new();
    private readonly ConcurrentQueue<string> _tags = new();

    [Fact]
    public async Task No_password_connection_string_or_phone_number_appears_in_logs_exceptions_or_metric_tags_during_a_fault_run()
    {
        await using var server = await RideBookingTestTlsServer.StartAsync(requireSecureTransport: true);
        await using var database = await server.CreateDatabaseAsync();
        var connectionString = database.ConnectionString;
        var builder = new MySqlConnectionStringBuilder(connectionString);
        var user = builder.UserID;
        var password = builder.Password;
        Assert.True(password.Length >= 16);
        var phones = Enumerable.Range(0, 40).Select(i => $"+4477009{i:D5}").ToList();

        using var listener = Listen(user);
        var logs = new CapturingLoggerProvider();
        var next = 0;
        await using (var services = DatabaseFixture.BuildServices(connectionString, o => o.MaxTransactionRetries = 1, logs))
        {
            var users = services.GetRequiredService<IUserRepository>();
            var drivers = services.GetRequiredService<IDriverRepository>();
            var booking = services.GetRequiredService<IRideBookingService>();

            // Up: the ordinary flow, and a duplicate phone (a business error whose message must not echo it).
            var created = new List<User>();
            for (; next < 8; next++)
            {
                created.Add(await users.CreateAsync("Rider " + next, phones[next]));
            }

            var driver = await drivers.CreateAsync("Driver", "KA-01-SCAN");
            var ride = await booking.BookAsync(created[0].Id, driver.Id, 15m);
            await Capture(() => users.CreateAsync("Copycat", phones[0]));
            await Capture(() => booking.BookAsync(created[1].Id, driver.Id, 15m));
            Assert.Equal(created[3], await users.GetByPhoneAsync(phones[3]));

            // Down: every kind of call fails, with the pool full of connections to a dead server.
            await server.StopAsync();
            for (var i = 0; i < 6; i++, next++)
            {
                await Capture(() => users.CreateAsync("Rider " + next, phones[next]));
                await Capture(() => users.GetAsync(created[i].Id));
                await Capture(() => users.GetByPhoneAsync(phones[i]));
                await Capture(() => booking.BookAsync(created[i + 1].Id, driver.Id, 12m));
                await Capture(() => booking.CompleteAsync(ride.Id));
                listener.RecordObservableInstruments();
            }

            // Back: the first calls meet stale pooled connections.
            await server.RestartAsync();
            for (var i = 0; i < 6; i++, next++)
            {
                await Capture(() => users.CreateAsync("Rider " + next, phones[next]));
                await Capture(() => users.GetByPhoneAsync(phones[i]));
                await Capture(() => booking.CancelAsync(ride.Id));
                listener.RecordObservableInstruments();
            }

            // The library works again, for users created before and after the outage.
            Assert.Equal(created[5], await users.GetByPhoneAsync(phones[5]));
            created.Add(await users.CreateAsync("Rider after", phones[next++]));
        }

        // A wrong password: the server refuses, and the refusal must not echo what was sent.
        var wrongPassword = "Wrong-" + Guid.NewGuid().ToString("N");
        var wrong = new MySqlConnectionStringBuilder(connectionString) { Password = wrongPassword }.ConnectionString;
        await using (var services = DatabaseFixture.BuildServices(wrong, logs: logs))
        {
            await Capture(() => services.GetRequiredService<IUserRepository>().CreateAsync("Rider wrong", phones[next]));
            await Capture(() => services.GetRequiredService<IUserRepository>().GetByPhoneAsync(phones[next]));
        }

        listener.RecordObservableInstruments();
        var logLines = logs.Entries.Select(e => $"{e.Level} {e.Category}: {e.Message}").ToList();
        var exceptions = _exceptions.ToList();
        var tags = _tags.Distinct(StringComparer.Ordinal).ToList();
        output.WriteLine($"scanned {logLines.Count} log lines, {exceptions.Count} exceptions, {tags.Count} distinct metric tags");

        // The run did fail in the ways it meant to, so there was something to scan.
        Assert.True(exceptions.Count >= 40, $"only {exceptions.Count} exceptions");
        Assert.Contains(exceptions, e => e.Contains(nameof(DuplicatePhoneException), StringComparison.Ordinal));
        Assert.Contains(exceptions, e => e.Contains("Access denied", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(logLines, l => l.StartsWith("Warning", StringComparison.Ordinal));
        Assert.Contains(tags, t => t.StartsWith("operation=", StringComparison.Ordinal));
        Assert.Contains(tags, t => t.Contains("pool", StringComparison.OrdinalIgnoreCase));

        string[] secrets =
        [
            password,
            wrongPassword,
            $"{user}:{password}",
            connectionString,
            wrong,
            new MySqlConnectionStringBuilder(connectionString) { Password = string.Empty }.ConnectionString,
        ];
        string[] connectionStringKeys = ["Password=", "Pwd=", "User ID=", "UserID=", "Uid=", "Username=", "User name=", "SslCa=", "Ssl CA="];
        foreach (var (kind, texts) in new[] { ("log line", logLines), ("exception", exceptions), ("metric tag", tags) })
        {
            foreach (var text in texts)
            {
                Assert.All(secrets, secret => Assert.False(text.Contains(secret, StringComparison.Ordinal), $"A {kind} contains a secret: {Redact(text, secrets)}"));
                Assert.All(connectionStringKeys, key => Assert.False(text.Contains(key, StringComparison.OrdinalIgnoreCase), $"A {kind} contains a connection string ({key}): {Redact(text, secrets)}"));
                Assert.All(phones, phone => Assert.False(text.Contains(phone, StringComparison.Ordinal) || text.Contains(phone[1..], StringComparison.Ordinal), $"A {kind} contains the phone number {phone}: {Redact(text, secrets)}"));
            }
        }
    }

    private static string Redact(string text, IEnumerable<string> secrets) =>
        secrets.Where(s => s.Length > 0).Aggregate(text, (t, s) => t.Replace(s, "<secret>", StringComparison.Ordinal));

    private async Task Capture(Func<Task> call)
    {
        try
        {
            await call();
        }
#pragma warning disable CA1031 // Every failure is what this test scans.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _exceptions.Enqueue(ex.ToString());
            for (var inner = ex; inner is not null; inner = inner.InnerException)
            {
                _exceptions.Enqueue($"{inner.GetType().FullName}: {inner.Message}");
                foreach (System.Collections.DictionaryEntry entry in inner.Data)
                {
                    _exceptions.Enqueue($"data {entry.Key}={entry.Value}");
                }
            }
        }
    }

    /// <summary>
    /// Every measurement of the library's meter and MySqlConnector's, all instruments, with its tags; MySqlConnector's
    /// measurements of pools that connect as another account (the test kit's administrator, other tests running at the
    /// same time) are not this run's and are left out.
    /// </summary>
    private MeterListener Listen(string user)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name is RideBookingTelemetry.MeterName or "MySqlConnector")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) => Keep(tags));
        listener.SetMeasurementEventCallback<int>((_, _, tags, _) => Keep(tags));
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) => Keep(tags));
        listener.SetMeasurementEventCallback<float>((_, _, tags, _) => Keep(tags));
        listener.SetMeasurementEventCallback<decimal>((_, _, tags, _) => Keep(tags));
        listener.Start();
        return listener;

        void Keep(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Value is string value && value.Contains("User ID=", StringComparison.Ordinal) && !value.Contains($"User ID={user};", StringComparison.Ordinal))
                {
                    return;
                }
            }

            foreach (var tag in tags)
            {
                _tags.Enqueue($"{tag.Key}={tag.Value}");
            }
        }
    }
}
