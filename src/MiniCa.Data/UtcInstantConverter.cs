using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace MiniCa.Data;

/// <summary>Stores an instant in UTC (PostgreSQL's timestamptz takes no other offset through Npgsql); reads it as UTC.</summary>
public sealed class UtcInstantConverter() : ValueConverter<DateTimeOffset, DateTimeOffset>(v => v.ToUniversalTime(), v => v.ToUniversalTime());
