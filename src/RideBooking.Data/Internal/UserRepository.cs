using MySqlConnector;

namespace RideBooking.Data.Internal;

internal sealed class UserRepository(RideBookingDataSource dataSource, TransactionRunner runner, IdGenerator ids, TimeProvider time) : IUserRepository
{
    internal const string UserById = """
        SELECT id AS Id, name AS Name, phone AS Phone, created_at AS CreatedAt
        FROM users WHERE id = @Id
        """;

    private const string InsertUser = """
        INSERT INTO users (id, name, phone, created_at) VALUES (@Id, @Name, @Phone, @CreatedAt)
        """;

    public async Task<User> CreateAsync(string name, string phone, CancellationToken ct = default)
    {
        var user = new User(ids.Next(), Guard.Text(name, nameof(name), Guard.NameMaxLength), Guard.Text(phone, nameof(phone), Guard.PhoneMaxLength), time.UtcNow());
        return await runner.RunAsync("CreateUser", transactional: false, async (unit, token) =>
        {
            if (unit.AfterUnknownCommit && await unit.CreateCommand(UserById).With("@Id", user.Id).ReadSingleOrDefaultAsync(Rows.User, token).ConfigureAwait(false) is { } stored)
            {
                return stored;
            }

            try
            {
                await unit.CreateCommand(InsertUser).With("@Id", user.Id).With("@Name", user.Name).With("@Phone", user.Phone).With("@CreatedAt", user.CreatedAt)
                    .ExecuteAsync(token).ConfigureAwait(false);
                return user;
            }
            catch (MySqlException ex) when (ex.IsDuplicateKey("uq_users_phone"))
            {
                throw new DuplicatePhoneException("Another user already has this phone number.", ex);
            }
        }, ct).ConfigureAwait(false);
    }

    public async Task<User?> GetAsync(long userId, CancellationToken ct = default)
    {
        var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        return await new MySqlCommand(UserById, connection).With("@Id", userId).ReadSingleOrDefaultAsync(Rows.User, ct).ConfigureAwait(false);
    }
}
