namespace RideBooking.Data;

/// <summary>The outcome of <see cref="IPaymentRepository.RecordAsync"/>.</summary>
/// <param name="Payment">The stored payment.</param>
/// <param name="AlreadyRecorded"><see langword="true"/> when this call was a replay of an earlier one and nothing new was stored.</param>
public sealed record PaymentResult(Payment Payment, bool AlreadyRecorded);
