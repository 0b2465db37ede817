using Dapper;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using RideBooking.Data.Testing;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// The application account of schema/grants/02_application_user.sql, which every integration test runs the library as:
/// it does everything the library needs and nothing else (no DDL, no other tables, no writes the library never makes).
/// </summary>
public sealed class AccountTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task The_library_and_the_tests_connect_as_the_application_account()
    {
        await using var connection = await db.OpenAsync();
        var user = await connection.ExecuteScalarAsync<string>("SELECT CURRENT_USER()");

        Assert.StartsWith($"{db.ApplicationUser}@", user, StringComparison.Ordinal);
        Assert.StartsWith("rb_app_", db.ApplicationUser, StringComparison.Ordinal);
        Assert.NotEqual("root", new MySqlConnectionStringBuilder(db.ConnectionString).UserID);
    }

    [Theory]
    [InlineData("DROP TABLE rides")]
    [InlineData("TRUNCATE TABLE payments")]
    [InlineData("ALTER TABLE users ADD COLUMN nickname VARCHAR(20) NULL")]
    [InlineData("CREATE TABLE intruder (id INT PRIMARY KEY)")]
    [InlineData("CREATE INDEX ix_users_name ON users (name)")]
    [InlineData("DROP DATABASE IF EXISTS `{database}`")]
    [InlineData("DELETE FROM users")]
    [InlineData("DELETE FROM rides")]
    [InlineData("UPDATE shard_placements SET physical_shard = 1")]
    [InlineData("INSERT INTO schema_history (script, checksum, applied_at) VALUES ('999_evil.sql', REPEAT('0', 64), UTC_TIMESTAMP(6))")]
    [InlineData("SELECT COUNT(*) FROM mysql.user")]
    [InlineData("GRANT SELECT ON `{database}`.* TO CURRENT_USER()")]
    [InlineData("CREATE USER 'rb_intruder'@'%'")]
    public async Task The_application_account_is_refused_ddl_and_writes_the_library_never_makes(string statement)
    {
        var before = await db.ChecksumAsync();
        await using var admin = await db.OpenAdminAsync();
        const string CountTables = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()";
        var tables = await admin.ExecuteScalarAsync<long>(CountTables);
        await using var connection = await db.OpenAsync();

        var refused = await Assert.ThrowsAsync<MySqlException>(() => connection.ExecuteAsync(statement.Replace("{database}", db.Database.DatabaseName, StringComparison.Ordinal)));

        Assert.Contains(refused.ErrorCode, new[]
        {
            MySqlErrorCode.TableAccessDenied,              // 1142: DROP/ALTER/CREATE/INDEX/DELETE/UPDATE/INSERT command denied
            MySqlErrorCode.DatabaseAccessDenied,           // 1044: DROP DATABASE, GRANT on the database
            MySqlErrorCode.SpecifiedAccessDeniedError,          // 1227: CREATE USER
            MySqlErrorCode.PasswordNoMatch,                // 1133: GRANT to an account without the right to grant
        });
        Assert.Equal(before, await db.ChecksumAsync());
        Assert.True(tables >= 13);
        Assert.Equal(tables, await admin.ExecuteScalarAsync<long>(CountTables));
        Assert.Equal(0, await admin.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND column_name = 'nickname'"));
        Assert.Equal(0, await admin.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM mysql.user WHERE user = 'rb_intruder'"));
    }

    [Fact]
    public async Task The_application_account_runs_every_operation_of_the_library()
    {
        // The brief's flow and every other public operation, as the application account: nothing is refused.
        await using var services = DatabaseFixture.BuildServices(db.ConnectionString, o => o.RecoveryGracePeriod = TimeSpan.FromSeconds(1));
        var users = services.GetRequiredService<IUserRepository>();
        var drivers = services.GetRequiredService<IDriverRepository>();
        var booking = services.GetRequiredService<IRideBookingService>();
        var rides = services.GetRequiredService<IRideRepository>();
        var payments = services.GetRequiredService<IPaymentRepository>();

        var user = await users.CreateAsync("Asha", db.NextPhone());
        var driver = await drivers.CreateAsync("Ravi", "KA-01-AB-1234");
        var ride = await booking.BookAsync(user.Id, driver.Id, 249.50m);
        await Assert.ThrowsAsync<DriverUnavailableException>(() => booking.BookAsync(user.Id, driver.Id, 10m));
        await booking.AcceptAsync(ride.Id, driver.Id);
        var completed = await booking.CompleteAsync(ride.Id);
        var paid = await payments.RecordAsync(ride.Id, "psp-acct-" + ride.Id, 249.50m);
        var again = await payments.RecordAsync(ride.Id, "psp-acct-" + ride.Id, 249.50m);
        var settled = await payments.SetStatusAsync(paid.Payment.TransactionId, PaymentStatus.Succeeded);
        var cancelled = await booking.CancelAsync((await booking.BookAsync(user.Id, driver.Id, 12m)).Id);

        Assert.Equal(RideStatus.Completed, completed.Status);
        Assert.False(paid.AlreadyRecorded);
        Assert.True(again.AlreadyRecorded);
        Assert.Equal(PaymentStatus.Succeeded, settled.Status);
        Assert.Equal(RideStatus.Cancelled, cancelled.Status);
        Assert.Equal(user, await users.GetAsync(user.Id));
        Assert.Equal(user, await users.GetByPhoneAsync(user.Phone));
        Assert.True((await drivers.GetAsync(driver.Id))!.Available);
        Assert.Contains(await drivers.GetAvailableAsync(1000), d => d.Id == driver.Id);
        Assert.Equal(completed, await rides.GetAsync(ride.Id));
        Assert.Equal(2, (await rides.GetLatestForUserAsync(user.Id, 10)).Count);
        Assert.Contains(new DriverEarnings(driver.Id, 249.50m), await rides.GetDriverEarningsAsync());
        Assert.Contains(await rides.GetTopDriversAsync(1000), r => r.DriverId == driver.Id && r.Earnings == 249.50m);
        Assert.Equal(settled, await payments.GetByTransactionIdAsync(paid.Payment.TransactionId));
        Assert.True((await services.GetRequiredService<IDriverEarningsBackfill>().RebuildAsync(100)).DriversWithEarnings >= 1);
        Assert.Contains(new DriverEarnings(driver.Id, 249.50m), await rides.GetDriverEarningsAsync());
        Assert.True(await services.GetRequiredService<IRideBookingRecovery>().RunAsync() >= 0);
        Assert.Equal(RideBookingSchema.Scripts.Select(s => s.Key), await RideBookingSchema.GetAppliedScriptsAsync(db.ConnectionString));
    }

    [Fact]
    public async Task The_migration_account_applies_the_schema_but_cannot_drop_it()
    {
        await RideBookingSchema.ApplyAsync(db.MigrationConnectionString);

        await using var connection = new MySqlConnection(db.MigrationConnectionString);
        await connection.OpenAsync();
        var refused = await Assert.ThrowsAsync<MySqlException>(() => connection.ExecuteAsync("DROP TABLE driver_earnings"));
        Assert.Equal(MySqlErrorCode.TableAccessDenied, refused.ErrorCode);
        var outside = await Assert.ThrowsAsync<MySqlException>(() => connection.ExecuteAsync("SELECT COUNT(*) FROM mysql.user"));
        Assert.Contains(outside.ErrorCode, new[] { MySqlErrorCode.TableAccessDenied, MySqlErrorCode.DatabaseAccessDenied });
    }
}
