namespace RideBooking.Data;

/// <summary>Creates and reads drivers.</summary>
public interface IDriverRepository
{
    /// <summary>Creates an available driver.</summary>
    /// <param name="name">The display name: 1 to 100 characters, not only white space.</param>
    /// <param name="vehicleNumber">The vehicle's registration number: 1 to 20 characters, not only white space.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The stored driver.</returns>
    /// <exception cref="ArgumentException">A malformed name or vehicle number.</exception>
#pragma warning disable RS0026 // Both overloads end in an optional token by contract; the key's string argument keeps calls unambiguous.
    Task<Driver> CreateAsync(string name, string vehicleNumber, CancellationToken ct = default);

    /// <summary>
    /// Creates an available driver under the caller's idempotency key: a repeat with the same key returns the driver the first
    /// call created (in its current state) instead of creating a second one. The driver's logical shard is chosen from the key,
    /// and the key is stored with the driver, in the same transaction.
    /// </summary>
    /// <param name="name">The display name: 1 to 100 characters, not only white space.</param>
    /// <param name="vehicleNumber">The vehicle's registration number: 1 to 20 characters, not only white space.</param>
    /// <param name="idempotencyKey">The caller's key: 1 to 100 characters, compared byte for byte, no white space at either end.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The stored driver: the first call's driver when the key was used before.</returns>
    /// <exception cref="ArgumentException">A malformed name, vehicle number or key.</exception>
    /// <exception cref="IdempotencyKeyConflictException">The key was used before with another name or vehicle number.</exception>
    Task<Driver> CreateAsync(string name, string vehicleNumber, string idempotencyKey, CancellationToken ct = default);
#pragma warning restore RS0026

    /// <summary>Reads a driver by id.</summary>
    /// <param name="driverId">The driver's id.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>The driver, or <see langword="null"/> when there is none with that id.</returns>
    Task<Driver?> GetAsync(long driverId, CancellationToken ct = default);

    /// <summary>Reads available drivers, in id order.</summary>
    /// <param name="limit">The most drivers to return: 1 to 1000.</param>
    /// <param name="ct">Cancels the operation.</param>
    /// <returns>Up to <paramref name="limit"/> drivers that have no active ride.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is outside 1 to 1000.</exception>
    Task<IReadOnlyList<Driver>> GetAvailableAsync(int limit, CancellationToken ct = default);
}
