using MySqlConnector;

namespace RideBooking.Data.Internal;

internal sealed class DriverRepository(RideBookingDataSource dataSource, TransactionRunner runner, IdGenerator ids, TimeProvider time) : IDriverRepository
{
    internal const int MaxAvailableLimit = 1000;

    internal const string DriverById = """
        SELECT id AS Id, name AS Name, vehicle_number AS VehicleNumber, available AS Available, created_at AS CreatedAt
        FROM drivers WHERE id = @Id
        """;

    internal const string AvailableDrivers = """
        SELECT id AS Id, name AS Name, vehicle_number AS VehicleNumber, available AS Available, created_at AS CreatedAt
        FROM drivers WHERE available = TRUE ORDER BY id LIMIT @Limit
        """;

    private const string InsertDriver = """
        INSERT INTO drivers (id, name, vehicle_number, available, created_at) VALUES (@Id, @Name, @VehicleNumber, TRUE, @CreatedAt)
        """;

    public async Task<Driver> CreateAsync(string name, string vehicleNumber, CancellationToken ct = default)
    {
        var driver = new Driver(
            ids.Next(),
            Guard.Text(name, nameof(name), Guard.NameMaxLength),
            Guard.Text(vehicleNumber, nameof(vehicleNumber), Guard.VehicleNumberMaxLength),
            Available: true,
            time.UtcNow());
        return await runner.RunAsync("CreateDriver", transactional: false, async (unit, token) =>
        {
            if (unit.AfterUnknownCommit && await unit.CreateCommand(DriverById).With("@Id", driver.Id).ReadSingleOrDefaultAsync(Rows.Driver, token).ConfigureAwait(false) is { } stored)
            {
                return stored;
            }

            await unit.CreateCommand(InsertDriver).With("@Id", driver.Id).With("@Name", driver.Name).With("@VehicleNumber", driver.VehicleNumber).With("@CreatedAt", driver.CreatedAt)
                .ExecuteAsync(token).ConfigureAwait(false);
            return driver;
        }, ct).ConfigureAwait(false);
    }

    public async Task<Driver?> GetAsync(long driverId, CancellationToken ct = default)
    {
        var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        return await new MySqlCommand(DriverById, connection).With("@Id", driverId).ReadSingleOrDefaultAsync(Rows.Driver, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<Driver>> GetAvailableAsync(int limit, CancellationToken ct = default)
    {
        Guard.Limit(limit, MaxAvailableLimit, nameof(limit));
        var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        return await new MySqlCommand(AvailableDrivers, connection).With("@Limit", limit).ReadListAsync(Rows.Driver, ct).ConfigureAwait(false);
    }
}
