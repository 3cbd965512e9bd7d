using System.Data.Common;

namespace MiniCa.Data.Queries;

/// <summary>An active authority as a database (or a copy of one) records it.</summary>
/// <param name="Name">The authority's name (<c>root</c>, <c>issuing</c>).</param>
/// <param name="SerialHex">Its certificate's serial number in hex.</param>
/// <param name="KeyUri">Its key in the HSM (a label or an RFC 7512 URI).</param>
/// <param name="CertificateDer">Its certificate.</param>
public sealed record RecordedAuthority(string Name, string SerialHex, string KeyUri, byte[] CertificateDer);

/// <summary>
/// What a backup reads from the database it copies, in plain SQL over either provider's connection: a backup made by
/// an older MiniCa is read before its schema is brought up to date, and a PostgreSQL dump's counts come from the
/// transaction that holds its snapshot.
/// </summary>
public static class BackupQueries
{
    /// <summary>The authorities with a signed certificate, in the order they were made.</summary>
    public static async Task<IReadOnlyList<RecordedAuthority>> ActiveAuthoritiesAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT \"Name\", \"SerialHex\", \"KeyUri\", \"CertificateDer\" FROM \"Authorities\" WHERE \"Status\" = 'Active' AND \"CertificateDer\" IS NOT NULL ORDER BY \"Id\"";
        var authorities = new List<RecordedAuthority>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            authorities.Add(new RecordedAuthority(reader.GetString(0), reader.GetString(1), reader.GetString(2), (byte[])reader.GetValue(3)));
        }

        return authorities;
    }

    /// <summary>How many authorities and certificates the database records.</summary>
    public static async Task<(long Authorities, long Certificates)> CountsAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT (SELECT COUNT(*) FROM \"Authorities\"), (SELECT COUNT(*) FROM \"Certificates\")";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
