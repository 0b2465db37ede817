using System.Buffers.Binary;

namespace RideBooking.Data.Internal;

/// <summary>
/// The position after which the next page of a user's rides starts: the last ride's booking time and id, bound to the
/// user. Sent as base64url of a version byte and three 64-bit integers, so it is opaque to callers and checked on the
/// way back in.
/// </summary>
internal readonly record struct RideCursor(long UserId, DateTime CreatedAt, long RideId)
{
    private const byte Version = 1;
    private const int Length = 1 + (3 * sizeof(long));

    public static RideCursor After(Ride ride) => new(ride.UserId, ride.CreatedAt, ride.Id);

    public string Encode()
    {
        Span<byte> bytes = stackalloc byte[Length];
        bytes[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(bytes[1..], UserId);
        BinaryPrimitives.WriteInt64BigEndian(bytes[9..], CreatedAt.Ticks);
        BinaryPrimitives.WriteInt64BigEndian(bytes[17..], RideId);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Reads a cursor of <paramref name="userId"/>; anything else is an <see cref="ArgumentException"/>.</summary>
    public static RideCursor Decode(string cursor, long userId, string paramName)
    {
        var text = cursor.Replace('-', '+').Replace('_', '/');
        text = text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '=');
        Span<byte> bytes = stackalloc byte[Length + 3];
        if (cursor.Length > 40 || !Convert.TryFromBase64String(text, bytes, out var written) || written != Length || bytes[0] != Version)
        {
            throw new ArgumentException("The cursor is not one that GetPageForUserAsync returned.", paramName);
        }

        var owner = BinaryPrimitives.ReadInt64BigEndian(bytes[1..]);
        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes[9..]);
        var rideId = BinaryPrimitives.ReadInt64BigEndian(bytes[17..]);
        if (owner != userId)
        {
            throw new ArgumentException("The cursor belongs to the rides of another user.", paramName);
        }

        if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks || rideId <= 0)
        {
            throw new ArgumentException("The cursor is not one that GetPageForUserAsync returned.", paramName);
        }

        return new RideCursor(owner, new DateTime(ticks, DateTimeKind.Utc), rideId);
    }
}
