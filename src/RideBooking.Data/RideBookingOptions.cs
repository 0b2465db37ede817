namespace RideBooking.Data;

/// <summary>Settings of the RideBooking.Data services, bound from the <c>RideBooking</c> configuration section or set in code.</summary>
public sealed class RideBookingOptions
{
    /// <summary>Gets or sets the MySQL/MariaDB connection string of the database that holds the schema.</summary>
    /// <value>Required; there is no default.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets how many times a transaction is retried after a deadlock or lock wait timeout.</summary>
    /// <value>0 to 10. The default is 3.</value>
    public int MaxTransactionRetries { get; set; } = 3;

    /// <summary>Gets or sets the delay before the first retry; each later retry doubles it, with random jitter.</summary>
    /// <value>0 to 10 seconds. The default is 20 milliseconds.</value>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Gets or sets this process's worker id for id generation. Every process writing to the same
    /// database must use a different value to guarantee unique ids.
    /// </summary>
    /// <value>0 to 1023, or <see langword="null"/> to pick one at random at start-up. The default is <see langword="null"/>.</value>
    public int? WorkerId { get; set; }
}
