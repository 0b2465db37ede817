using System.Globalization;
using MySqlConnector;

namespace RideBooking.Data.Internal;

/// <summary>
/// A command of a unit of work: SQL text of one or more statements and its parameters. Where a batch is safe it runs as
/// one round trip. On a Galera node (<see cref="UnitOfWork.OneStatementPerCommand"/>) each statement is sent as a command
/// of its own: a transaction aborted by a replicated write set while a statement runs is then reported on that statement
/// (1213), whereas inside a multi-statement batch MariaDB can answer OK and run the batch's remaining statements in
/// autocommit mode, storing part of the transaction.
/// </summary>
internal readonly struct UnitCommand(UnitOfWork unit, MySqlCommand command) : IAsyncDisposable
{
    /// <summary>Gets the driver command (its text is the whole batch).</summary>
    public MySqlCommand Command { get; } = command;

    /// <summary>Gets or sets the SQL text: statements separated by semicolons.</summary>
    public string CommandText
    {
        get => Command.CommandText;
        set => Command.CommandText = value;
    }

    private bool OneByOne => unit.OneStatementPerCommand;

    public UnitCommand With(string name, object? value)
    {
        Command.Parameters.AddWithValue(name, value);
        return this;
    }

    public ValueTask DisposeAsync() => Command.DisposeAsync();

    /// <summary>Runs every statement; returns the rows they affected (as <see cref="MySqlCommand.ExecuteNonQueryAsync(CancellationToken)"/>).</summary>
    public async Task<int> ExecuteAsync(CancellationToken ct)
    {
        if (!OneByOne)
        {
            return await Command.ExecuteAsync(ct).ConfigureAwait(false);
        }

        await using (this.ConfigureAwait(false))
        {
            var results = await UnitResults.OpenAsync(Command, oneByOne: true, ct).ConfigureAwait(false);
            await using (results.ConfigureAwait(false))
            {
                await results.FinishAsync(ct).ConfigureAwait(false);
                return results.RecordsAffected;
            }
        }
    }

    /// <summary>The first row of the first result set, or <see langword="null"/>; every statement runs.</summary>
    public async Task<T?> ReadSingleOrDefaultAsync<T>(Func<MySqlDataReader, T> map, CancellationToken ct)
        where T : class
    {
        if (!OneByOne)
        {
            return await Command.ReadSingleOrDefaultAsync(map, ct).ConfigureAwait(false);
        }

        return await ReadFirstResultAsync(static async (r, map, ct) => await r.ReadAsync(ct).ConfigureAwait(false) ? map(r) : null, map, ct).ConfigureAwait(false);
    }

    /// <summary>Every row of the first result set; every statement runs.</summary>
    public async Task<List<T>> ReadListAsync<T>(Func<MySqlDataReader, T> map, CancellationToken ct)
    {
        if (!OneByOne)
        {
            return await Command.ReadListAsync(map, ct).ConfigureAwait(false);
        }

        return await ReadFirstResultAsync(static (r, map, ct) => r.ReadListAsync(map, ct), map, ct).ConfigureAwait(false);
    }

    /// <summary>The first column of the first row of the first result set, as a 64-bit integer (0 when there is no row); every statement runs.</summary>
    public async Task<long> ReadInt64Async(CancellationToken ct)
    {
        if (!OneByOne)
        {
            return await Command.ReadInt64Async(ct).ConfigureAwait(false);
        }

        var value = await ReadFirstResultAsync(static async (r, _, ct) => await r.ReadAsync(ct).ConfigureAwait(false) ? r.GetValue(0) : null, 0, ct).ConfigureAwait(false);
        return Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    /// <summary>Runs the command and returns its result sets; the caller ends with <see cref="UnitOfWork.CaptureWriteMarkAsync"/>, which runs what is left.</summary>
    public Task<UnitResults> ExecuteReaderAsync(CancellationToken ct) => UnitResults.OpenAsync(Command, OneByOne, ct);

    private async Task<TResult> ReadFirstResultAsync<TResult, TState>(Func<MySqlDataReader, TState, CancellationToken, Task<TResult>> read, TState state, CancellationToken ct)
    {
        await using (this.ConfigureAwait(false))
        {
            var results = await UnitResults.OpenAsync(Command, oneByOne: true, ct).ConfigureAwait(false);
            await using (results.ConfigureAwait(false))
            {
                var value = await read(results.Reader, state, ct).ConfigureAwait(false);
                await results.FinishAsync(ct).ConfigureAwait(false);
                return value;
            }
        }
    }
}

/// <summary>
/// The result sets of a <see cref="UnitCommand"/>, positioned like a <see cref="MySqlDataReader"/> of the whole batch: on
/// the first statement that returns columns, then from result set to result set. Sent one statement at a time, the next
/// statement runs when the caller moves past the current result set; <see cref="FinishAsync"/> runs the rest.
/// </summary>
internal sealed class UnitResults : IAsyncDisposable
{
    private readonly MySqlCommand _command;
    private readonly List<string>? _statements;
    private int _next;
    private MySqlDataReader? _reader;
    private int _affected = -1;

    private UnitResults(MySqlCommand command, List<string>? statements)
    {
        _command = command;
        _statements = statements;
    }

    /// <summary>Gets the reader of the current result set (for mapping rows).</summary>
    public MySqlDataReader Reader => _reader ?? throw new InvalidOperationException("The command returned no result set.");

    /// <summary>Gets the rows affected by the statements run so far; -1 when none of them changed rows.</summary>
    public int RecordsAffected => Add(_affected, _reader?.RecordsAffected ?? -1);

    public static async Task<UnitResults> OpenAsync(MySqlCommand command, bool oneByOne, CancellationToken ct)
    {
        if (!oneByOne)
        {
            var batch = new UnitResults(command, null);
            batch._reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            return batch;
        }

        var results = new UnitResults(command, SqlStatements.Split(command.CommandText));
        try
        {
            await results.RunNextAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await results.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return results;
    }

    public Task<bool> ReadAsync(CancellationToken ct) => Reader.ReadAsync(ct);

    /// <summary>Moves to the next result set (running the statements up to it when they are sent one at a time).</summary>
    public async Task<bool> NextResultAsync(CancellationToken ct)
    {
        if (_reader is not null && await _reader.NextResultAsync(ct).ConfigureAwait(false))
        {
            return true;
        }

        return await RunNextAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Reads past every remaining result set, so that every statement has run.</summary>
    public async Task FinishAsync(CancellationToken ct)
    {
        while (await NextResultAsync(ct).ConfigureAwait(false))
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_reader is not null)
        {
            await _reader.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Runs the next statements until one returns columns; false when none is left.</summary>
    private async Task<bool> RunNextAsync(CancellationToken ct)
    {
        if (_statements is null)
        {
            return false;
        }

        while (_next < _statements.Count)
        {
            if (_reader is not null)
            {
                _affected = Add(_affected, _reader.RecordsAffected);
                await _reader.DisposeAsync().ConfigureAwait(false);
                _reader = null;
            }

            _command.CommandText = _statements[_next++];
            _reader = await _command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (_reader.FieldCount > 0)
            {
                return true;
            }
        }

        return false;
    }

    private static int Add(int a, int b) => a < 0 ? b : b < 0 ? a : a + b;
}

/// <summary>Splits SQL text into its statements.</summary>
internal static class SqlStatements
{
    /// <summary>
    /// The statements of <paramref name="sql"/>, split at semicolons outside quotes, identifiers and comments. A leading
    /// <c>START TRANSACTION</c> stays with the statement after it: it takes no lock, so no write set can abort the
    /// transaction before that statement runs, and the unit saves a round trip.
    /// </summary>
    public static List<string> Split(string sql)
    {
        var statements = new List<string>();
        var start = 0;
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (c is '\'' or '"' or '`')
            {
                i = SkipQuoted(sql, i, c);
                continue;
            }

            // "-- " (two dashes and a space or control character) and "#" comment out the rest of the line.
            if ((c == '-' && i + 2 < sql.Length && sql[i + 1] == '-' && sql[i + 2] <= ' ') || c == '#')
            {
                var end = sql.IndexOf('\n', i);
                i = end < 0 ? sql.Length : end + 1;
                continue;
            }

            if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? sql.Length : end + 2;
                continue;
            }

            if (c == ';')
            {
                Add(statements, sql[start..i]);
                start = i + 1;
            }

            i++;
        }

        Add(statements, sql[start..]);
        if (statements.Count > 1 && statements[0].Equals("START TRANSACTION", StringComparison.OrdinalIgnoreCase))
        {
            statements[1] = statements[0] + ";\n" + statements[1];
            statements.RemoveAt(0);
        }

        return statements;
    }

    private static int SkipQuoted(string sql, int i, char quote)
    {
        for (i++; i < sql.Length; i++)
        {
            if (sql[i] == '\\' && quote != '`')
            {
                i++;
            }
            else if (sql[i] == quote)
            {
                if (i + 1 < sql.Length && sql[i + 1] == quote)
                {
                    i++;
                }
                else
                {
                    return i + 1;
                }
            }
        }

        return sql.Length;
    }

    private static void Add(List<string> statements, string statement)
    {
        statement = statement.Trim();
        if (statement.Length > 0)
        {
            statements.Add(statement);
        }
    }
}
