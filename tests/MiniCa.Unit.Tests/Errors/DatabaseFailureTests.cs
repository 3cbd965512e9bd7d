using System.Data.Common;
using MiniCa.Core.Errors;

namespace MiniCa.Unit.Tests.Errors;

public sealed class DatabaseFailureTests
{
    private sealed class ServerGone() : DbException("the server closed the connection");

    [Fact]
    public void IsUnavailable_DatabaseFailuresAndTheirWrappers_True()
    {
        Assert.True(DatabaseFailure.IsUnavailable(new ServerGone()));
        Assert.True(DatabaseFailure.IsUnavailable(new TimeoutException()));
        // EF Core's "likely due to a transient failure", and a store's own error around the provider's.
        Assert.True(DatabaseFailure.IsUnavailable(new InvalidOperationException("transient", new ServerGone())));
        Assert.True(DatabaseFailure.IsUnavailable(new CaException(CaErrorKind.StorageFailed, "could not record", new InvalidOperationException("transient", new ServerGone()))));
    }

    [Fact]
    public void IsUnavailable_OtherFailures_False()
    {
        Assert.False(DatabaseFailure.IsUnavailable(null));
        Assert.False(DatabaseFailure.IsUnavailable(new InvalidOperationException("a bug")));
        Assert.False(DatabaseFailure.IsUnavailable(new CaException(CaErrorKind.Malformed, "bad CSR")));
        // Only through the wrappers above: an argument error that happens to hold a database error is a bug, not an outage.
        Assert.False(DatabaseFailure.IsUnavailable(new ArgumentException("bad", new ServerGone())));
        // The database's answer, in a store's own words: a serial already taken is a conflict, not an outage.
        Assert.False(DatabaseFailure.IsUnavailable(new CaException(CaErrorKind.AlreadyExists, "The serial number is already taken.", new ServerGone())));
    }

    [Fact]
    public void Reason_TheDatabasesOwnWordsFromInsideWrappers()
    {
        // As EF Core's DbUpdateException ("see the inner exception") holds the provider's.
        Assert.Equal("the server closed the connection", DatabaseFailure.Reason(new InvalidOperationException("see the inner exception", new ServerGone())));
        Assert.Equal("the server closed the connection", DatabaseFailure.Reason(new ServerGone()));
        Assert.Null(DatabaseFailure.Reason(new InvalidOperationException("a bug")));
        Assert.Null(DatabaseFailure.Reason(null));
    }
}
