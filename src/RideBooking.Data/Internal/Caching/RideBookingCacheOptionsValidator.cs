using Microsoft.Extensions.Options;

namespace RideBooking.Data.Internal;

/// <summary>Validates <see cref="RideBookingCacheOptions"/> once, at start-up, listing every problem (never the Redis configuration itself: it may hold a password).</summary>
internal sealed class RideBookingCacheOptionsValidator : IValidateOptions<RideBookingCacheOptions>
{
    public ValidateOptionsResult Validate(string? name, RideBookingCacheOptions options)
    {
        List<string> problems = [];
        if (string.IsNullOrWhiteSpace(options.RedisConfiguration))
        {
            problems.Add("RedisConfiguration is required (the StackExchange.Redis configuration string of the shared Redis).");
        }
        else
        {
            try
            {
                _ = RideBookingCache.RedisOptions(options);
            }
            catch (ArgumentException)
            {
                problems.Add("RedisConfiguration is not a valid StackExchange.Redis configuration string.");
            }
        }

        if (options.KeyPrefix is null)
        {
            problems.Add("KeyPrefix must not be null (it may be empty).");
        }

        Positive(options.LocalExpiration, nameof(options.LocalExpiration), problems);
        Positive(options.Expiration, nameof(options.Expiration), problems);
        Positive(options.RedisConnectTimeout, nameof(options.RedisConnectTimeout), problems);
        Positive(options.RedisOperationTimeout, nameof(options.RedisOperationTimeout), problems);
        Positive(options.RedisRetryInterval, nameof(options.RedisRetryInterval), problems);
        if (options.LocalExpiration > options.Expiration)
        {
            problems.Add("LocalExpiration must not be longer than Expiration.");
        }

        if (options.AvailableDriversCached is < 1 or > DriverRepository.MaxAvailableLimit)
        {
            problems.Add($"AvailableDriversCached must be 1 to {DriverRepository.MaxAvailableLimit}.");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    private static void Positive(TimeSpan value, string name, List<string> problems)
    {
        if (value <= TimeSpan.Zero)
        {
            problems.Add($"{name} must be positive.");
        }
    }
}
