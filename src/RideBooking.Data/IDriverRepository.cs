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
    Task<Driver> CreateAsync(string name, string vehicleNumber, CancellationToken ct = default);

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
