using System.ComponentModel;

namespace RideBooking.Data.Internal;

/// <summary>
/// What the cache stores: sealed and marked immutable, so that HybridCache keeps the object itself in memory and hands
/// it out on a hit instead of deserializing a copy every time (the models are immutable records; lists are copied
/// before they leave the cache).
/// </summary>
/// <typeparam name="T">The cached value's type.</typeparam>
/// <param name="Value">The cached value.</param>
[ImmutableObject(true)]
internal sealed record CachedEntry<T>(T Value);
