namespace RideBooking.Data;

/// <summary>One page of a user's rides, newest first, from <see cref="IRideRepository.GetPageForUserAsync"/>.</summary>
/// <param name="Items">The rides of this page: newest first, rides booked at the same instant by id, highest first.</param>
/// <param name="NextCursor">
/// The opaque cursor that reads the next (older) page, or <see langword="null"/> when this page holds the user's oldest ride.
/// It names a position (a ride's booking time and id), not an offset, so rides booked while paging neither repeat nor
/// push rides out of later pages.
/// </param>
public sealed record RidePage(IReadOnlyList<Ride> Items, string? NextCursor);
