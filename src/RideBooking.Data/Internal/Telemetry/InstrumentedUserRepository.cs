namespace RideBooking.Data.Internal;

/// <summary>The instrumentation layer of <see cref="IUserRepository"/>: a span and a duration per call, nothing else.</summary>
internal sealed class InstrumentedUserRepository(IUserRepository inner, OperationTelemetry telemetry) : IUserRepository
{
    public Task<User> CreateAsync(string name, string phone, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("CreateUser", (inner, name, phone), static (s, t) => s.inner.CreateAsync(s.name, s.phone, t), static (tm, _, user) => user is null ? -1 : tm.ShardOf(user.Id), ct)
            : inner.CreateAsync(name, phone, ct);

    // The caller's key is never a tag.
    public Task<User> CreateAsync(string name, string phone, string idempotencyKey, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("CreateUser", (inner, name, phone, idempotencyKey), static (s, t) => s.inner.CreateAsync(s.name, s.phone, s.idempotencyKey, t), static (tm, _, user) => user is null ? -1 : tm.ShardOf(user.Id), ct)
            : inner.CreateAsync(name, phone, idempotencyKey, ct);

    public Task<User?> GetAsync(long userId, CancellationToken ct = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("GetUser", (inner, userId), static (s, t) => s.inner.GetAsync(s.userId, t), static (tm, s, _) => tm.ShardOf(s.userId), ct)
            : inner.GetAsync(userId, ct);

    public Task<User?> GetByPhoneAsync(string phone, CancellationToken cancellationToken = default) =>
        telemetry.IsEnabled
            ? telemetry.RunAsync("GetUserByPhone", (inner, phone), static (s, t) => s.inner.GetByPhoneAsync(s.phone, t), static (tm, _, user) => user is null ? -1 : tm.ShardOf(user.Id), cancellationToken)
            : inner.GetByPhoneAsync(phone, cancellationToken);
}
