using RideBooking.Data.Internal;

namespace RideBooking.Data.Tests;

public sealed class IdGeneratorTests
{
    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void Ids_are_positive_unique_and_increasing_even_past_4096_per_millisecond()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
        var ids = new IdGenerator(time, workerId: 7);
        var generated = Enumerable.Range(0, 10_000).Select(_ => ids.Next()).ToList();

        Assert.All(generated, id => Assert.True(id > 0));
        Assert.Equal(generated.Order(), generated);
        Assert.Equal(generated.Count, generated.Distinct().Count());
    }

    [Fact]
    public void Ids_stay_increasing_when_the_clock_goes_back()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
        var ids = new IdGenerator(time, workerId: 1);
        var before = ids.Next();
        time.Now = time.Now.AddSeconds(-5);
        Assert.True(ids.Next() > before);
    }

    [Fact]
    public void Different_workers_never_collide_and_ids_follow_time()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
        var a = new IdGenerator(time, 1);
        var b = new IdGenerator(time, 2);
        var fromA = Enumerable.Range(0, 5000).Select(_ => a.Next()).ToHashSet();
        var fromB = Enumerable.Range(0, 5000).Select(_ => b.Next());
        Assert.DoesNotContain(fromB, fromA.Contains);

        var early = a.Next();
        time.Now = time.Now.AddMinutes(1);
        Assert.True(b.Next() > early);
    }

    [Fact]
    public void Concurrent_callers_get_distinct_ids()
    {
        var ids = new IdGenerator(TimeProvider.System, 3);
        var all = new System.Collections.Concurrent.ConcurrentBag<long>();
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                all.Add(ids.Next());
            }
        });
        Assert.Equal(all.Count, all.Distinct().Count());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1024)]
    public void Worker_ids_outside_10_bits_are_refused(int workerId) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new IdGenerator(TimeProvider.System, workerId));
}
