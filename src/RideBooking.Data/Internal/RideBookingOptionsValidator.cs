using Microsoft.Extensions.Options;
using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>Checks every option once, at start-up, and reports all problems in one error.</summary>
internal sealed class RideBookingOptionsValidator : IValidateOptions<RideBookingOptions>
{
    public ValidateOptionsResult Validate(string? name, RideBookingOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            failures.Add("RideBooking:ConnectionString is required.");
        }
        else
        {
            try
            {
                _ = new MySqlConnectionStringBuilder(options.ConnectionString);
            }
            catch (ArgumentException)
            {
                // The message of the parser may echo the connection string, which can hold a password.
                failures.Add("RideBooking:ConnectionString is not a valid MySQL connection string.");
            }
        }

        if (options.MaxTransactionRetries is < 0 or > 10)
        {
            failures.Add($"RideBooking:MaxTransactionRetries must be 0 to 10 (was {options.MaxTransactionRetries}).");
        }

        if (options.RetryBaseDelay < TimeSpan.Zero || options.RetryBaseDelay > TimeSpan.FromSeconds(10))
        {
            failures.Add($"RideBooking:RetryBaseDelay must be 0 to 10 seconds (was {options.RetryBaseDelay}).");
        }

        if (options.WorkerId is < 0 or > IdGenerator.MaxWorkerId)
        {
            failures.Add($"RideBooking:WorkerId must be 0 to {IdGenerator.MaxWorkerId} (was {options.WorkerId}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
