using Dapper;

namespace RideBooking.Data.IntegrationTests;

/// <summary>
/// The top-drivers query reads one snapshot: while a driver keeps overtaking the others and falling back, every answer is the
/// ranking of one state of the rollup, never a mix of two (a threshold from one state and the ranks from another).
/// </summary>
public sealed class TopDriversConsistencyTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Each_answer_ranks_one_state_of_the_rollup_while_a_driver_overtakes_and_falls_back()
    {
        const int Top = 3;
        const decimal Low = 50m;
        const decimal High = 5_000m;
        var steady = new List<long>();
        for (var i = 1; i <= 8; i++)
        {
            steady.Add((await db.NewDriverAsync()).Id);
        }

        var mover = (await db.NewDriverAsync()).Id;
        await using (var setup = await db.OpenAsync())
        {
            await setup.ExecuteAsync("DELETE FROM driver_earnings");
            for (var i = 0; i < steady.Count; i++)
            {
                await setup.ExecuteAsync(
                    "INSERT INTO driver_earnings (driver_id, total_earnings, completed_rides, updated_at) VALUES (@Id, @Earnings, 1, UTC_TIMESTAMP(6))",
                    new { Id = steady[i], Earnings = 100m * (i + 1) });
            }

            await setup.ExecuteAsync(
                "INSERT INTO driver_earnings (driver_id, total_earnings, completed_rides, updated_at) VALUES (@Id, @Earnings, 1, UTC_TIMESTAMP(6))",
                new { Id = mover, Earnings = Low });
        }

        // The two states the rollup moves between, and the ranking of each.
        var byEarnings = steady.Select((id, i) => (Id: id, Earnings: 100m * (i + 1))).OrderByDescending(d => d.Earnings).ToList();
        var whenLow = byEarnings.Take(Top).Select((d, i) => new RankedDriver(d.Id, d.Earnings, i + 1)).ToList();
        var whenHigh = new[] { new RankedDriver(mover, High, 1) }.Concat(byEarnings.Take(Top - 1).Select((d, i) => new RankedDriver(d.Id, d.Earnings, i + 2))).ToList();

        using var stop = new CancellationTokenSource();
        var flips = 0L;
        var flipper = Task.Run(async () =>
        {
            await using var connection = await db.OpenAsync();
            var high = false;
            while (!stop.IsCancellationRequested)
            {
                high = !high;
                await connection.ExecuteAsync("UPDATE driver_earnings SET total_earnings = @Earnings WHERE driver_id = @Id", new { Id = mover, Earnings = high ? High : Low });
                Interlocked.Increment(ref flips);
            }
        });

        var mixed = new List<string>();
        var seenLow = 0;
        var seenHigh = 0;
        try
        {
            for (var read = 0; read < 3_000; read++)
            {
                var answer = (await db.Rides.GetTopDriversAsync(Top)).ToList();
                if (answer.SequenceEqual(whenLow))
                {
                    seenLow++;
                }
                else if (answer.SequenceEqual(whenHigh))
                {
                    seenHigh++;
                }
                else
                {
                    mixed.Add(string.Join(", ", answer.Select(d => $"#{d.Rank} {d.Earnings}")));
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await flipper;
        }

        Assert.Empty(mixed);
        // The race was real: the answers saw both states while the rollup kept changing.
        Assert.True(seenLow > 0 && seenHigh > 0, $"answers saw low {seenLow} times and high {seenHigh} times over {Interlocked.Read(ref flips)} flips");
    }
}
