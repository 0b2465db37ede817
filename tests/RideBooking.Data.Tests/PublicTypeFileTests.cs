using System.Text.RegularExpressions;

namespace RideBooking.Data.Tests;

/// <summary>Every public type of the packages lives in a file of its own, named after it.</summary>
public sealed partial class PublicTypeFileTests
{
    [GeneratedRegex(@"^public (?:(?:sealed|static|abstract|partial|readonly) )*(?:class|record struct|record|interface|enum|struct) (\w+)", RegexOptions.Multiline)]
    private static partial Regex TopLevelPublicType();

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RideBooking.Data.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (with RideBooking.Data.sln) is not above the test's folder.");
    }

    private static IEnumerable<string> SourceFiles(string project) =>
        Directory.EnumerateFiles(Path.Combine(RepositoryRoot(), "src", project), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    [Theory]
    [InlineData("RideBooking.Data")]
    [InlineData("RideBooking.Data.Testing")]
    public void Each_source_file_declares_at_most_one_public_type_named_like_the_file(string project)
    {
        var offenders = new List<string>();
        foreach (var file in SourceFiles(project))
        {
            var names = TopLevelPublicType().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value).ToList();
            if (names.Count > 1 || (names.Count == 1 && names[0] != Path.GetFileNameWithoutExtension(file)))
            {
                offenders.Add($"{Path.GetFileName(file)}: {string.Join(", ", names)}");
            }
        }

        Assert.Empty(offenders);
    }

    [Fact]
    public void Each_exported_type_has_its_own_file()
    {
        var files = SourceFiles("RideBooking.Data").Select(Path.GetFileNameWithoutExtension).ToHashSet(StringComparer.Ordinal);
        var missing = typeof(RideBookingException).Assembly.GetExportedTypes()
            .Where(t => !t.IsNested)
            .Select(t => t.Name.Split('`')[0])
            .Where(name => !files.Contains(name))
            .ToList();

        Assert.NotEmpty(typeof(RideBookingException).Assembly.GetExportedTypes());
        Assert.Empty(missing);
    }
}
