using MySqlConnector;

namespace RideBooking.Data.Internal;

internal sealed class UserRepository(ShardReader reader, ShardResolver shards, TransactionRunner runner, IdGenerator ids, TimeProvider time, RideBookingMetrics metrics) : IUserRepository
{
    internal const string UserById = """
        SELECT id AS Id, name AS Name, phone AS Phone, created_at AS CreatedAt
        FROM users WHERE id = @Id
        """;

    private const string InsertUser = """
        INSERT INTO users (id, name, phone, created_at) VALUES (@Id, @Name, @Phone, @CreatedAt)
        """;

    private static readonly Func<MySqlDataReader, CancellationToken, Task<User?>> ReadUser = static (r, ct) => r.ReadSingleOrDefaultAsync(Rows.User, ct);

    public async Task<User> CreateAsync(string name, string phone, CancellationToken ct = default)
    {
        // A new user gets the next logical shard of the round robin, so users spread evenly.
        var logicalShard = ids.NextSpreadShard();
        var user = new User(ids.Next(logicalShard), Guard.Text(name, nameof(name), Guard.NameMaxLength), Guard.Text(phone, nameof(phone), Guard.PhoneMaxLength), time.UtcNow());
        return await runner.RunAsync("CreateUser", shards.PhysicalShardOfLogical(logicalShard), transactional: false, async (unit, token) =>
        {
            // Only a row with everything this call wrote is its own: another process may have used the same id.
            if (unit.AfterUnknownCommit && await unit.CreateCommand(UserById).With("@Id", user.Id).ReadSingleOrDefaultAsync(Rows.User, token).ConfigureAwait(false) is { } stored && stored == user)
            {
                return stored;
            }

            while (true)
            {
                try
                {
                    await unit.ExecuteWriteAsync(
                        unit.CreateCommand(InsertUser).With("@Id", user.Id).With("@Name", user.Name).With("@Phone", user.Phone).With("@CreatedAt", user.CreatedAt),
                        token).ConfigureAwait(false);
                    return user;
                }
                catch (MySqlException ex) when (ex.IsDuplicateKey("uq_users_phone"))
                {
                    throw new DuplicatePhoneException("Another user already has this phone number.", ex);
                }
                catch (MySqlException ex) when (ex.IsIdCollision())
                {
                    metrics.IdCollision("CreateUser");
                    user = user with { Id = ids.Next(logicalShard) };
                }
            }
        }, ct).ConfigureAwait(false);
    }

    public Task<User?> GetAsync(long userId, CancellationToken ct = default)
    {
        Guard.Id(userId, nameof(userId));
        return reader.ReadAsync("GetUser", shards.PhysicalShardOf(userId), new MySqlCommand(UserById).With("@Id", userId), ReadUser, ct);
    }
}
