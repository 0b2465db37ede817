using Dapper;
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
            if (unit.AfterUnknownCommit && await GetAsync(unit.Connection, driver.Id, token).ConfigureAwait(false) is { } stored)
            {
                return stored;
            }

            await unit.Connection.ExecuteAsync(unit.Command(InsertDriver, driver, token)).ConfigureAwait(false);
            return driver;
        }, ct).ConfigureAwait(false);
    }

    public async Task<Driver?> GetAsync(long driverId, CancellationToken ct = default)
    {
        var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        return await GetAsync(connection, driverId, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<Driver>> GetAvailableAsync(int limit, CancellationToken ct = default)
    {
        Guard.Limit(limit, MaxAvailableLimit, nameof(limit));
        var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var drivers = await connection.QueryAsync<Driver>(new CommandDefinition(AvailableDrivers, new { Limit = limit }, cancellationToken: ct)).ConfigureAwait(false);
        return drivers.AsList();
    }

    private static Task<Driver?> GetAsync(MySqlConnection connection, long driverId, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<Driver>(new CommandDefinition(DriverById, new { Id = driverId }, cancellationToken: ct));
}
