namespace RideBooking.Data.Internal;

/// <summary>
/// What the outermost layer of a public service (instrumentation) wraps. <c>AddRideBookingData</c> registers the core
/// implementation here; an opt-in layer (a cache) replaces this registration with itself wrapped around the core
/// (resolved by its concrete type), so that the layers compose as instrumentation, then the opt-in layer, then the core,
/// whichever registration call comes first.
/// </summary>
/// <typeparam name="TService">The public interface.</typeparam>
internal sealed class InnerLayer<TService>(TService service)
    where TService : class
{
    /// <summary>Gets the implementation the instrumentation layer calls.</summary>
    public TService Service { get; } = service;
}
