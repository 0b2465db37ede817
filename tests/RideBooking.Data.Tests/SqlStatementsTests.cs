using RideBooking.Data.Internal;

namespace RideBooking.Data.Tests;

/// <summary>How a command's text is split into the statements a Galera node is sent one at a time.</summary>
public sealed class SqlStatementsTests
{
    [Fact]
    public void A_single_statement_stays_whole_without_its_trailing_semicolon()
    {
        Assert.Equal(["SELECT 1"], SqlStatements.Split("SELECT 1"));
        Assert.Equal(["SELECT 1"], SqlStatements.Split("  SELECT 1;\n"));
    }

    [Fact]
    public void Statements_are_split_at_semicolons_and_trimmed()
    {
        Assert.Equal(
            ["UPDATE rides SET status = 'COMPLETED' WHERE id = @Id", "UPDATE drivers SET available = TRUE WHERE id = @DriverId", "SELECT @@last_gtid"],
            SqlStatements.Split("UPDATE rides SET status = 'COMPLETED' WHERE id = @Id;\nUPDATE drivers SET available = TRUE WHERE id = @DriverId;\n\n;SELECT @@last_gtid"));
    }

    [Fact]
    public void Semicolons_inside_quotes_identifiers_and_comments_do_not_split()
    {
        Assert.Equal(
            ["SELECT 'a;b', \"c;d\", `e;f`, 'it''s;', 'x\\';y' -- g;h\nFROM t", "/* i; j */ SELECT 2"],
            SqlStatements.Split("SELECT 'a;b', \"c;d\", `e;f`, 'it''s;', 'x\\';y' -- g;h\nFROM t; /* i; j */ SELECT 2"));
    }

    [Fact]
    public void A_hash_comments_out_the_line_and_two_dashes_only_before_a_space()
    {
        Assert.Equal(["SELECT 1 # a; b\nFROM t", "SELECT 3--1", "SELECT 4"], SqlStatements.Split("SELECT 1 # a; b\nFROM t; SELECT 3--1; SELECT 4"));
    }

    [Fact]
    public void A_leading_start_transaction_stays_with_the_first_statement()
    {
        Assert.Equal(
            ["START TRANSACTION;\nSELECT id FROM rides WHERE id = @Id FOR UPDATE", "UPDATE rides SET status = 'ACCEPTED' WHERE id = @Id"],
            SqlStatements.Split(UnitOfWork.BeginTransaction + "SELECT id FROM rides WHERE id = @Id FOR UPDATE;\nUPDATE rides SET status = 'ACCEPTED' WHERE id = @Id"));
        Assert.Equal(["START TRANSACTION"], SqlStatements.Split("START TRANSACTION;"));
    }

    [Fact]
    public void A_rollback_first_is_a_statement_of_its_own()
    {
        Assert.Equal(["ROLLBACK", "SELECT 0"], SqlStatements.Split("ROLLBACK;\nSELECT 0"));
    }
}
