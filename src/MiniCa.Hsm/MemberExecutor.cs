using System.Collections.Concurrent;

namespace MiniCa.Hsm;

/// <summary>
/// Dedicated threads that run one cluster member's PKCS#11 calls, so that a caller can stop waiting for a member
/// that no longer answers (and try another) without a hung call holding a thread-pool thread: a frozen module
/// only ever blocks its own member's threads. Replaced, with the connection, when the member is readmitted.
/// </summary>
internal sealed class MemberExecutor : IDisposable
{
    private readonly BlockingCollection<Action> _queue = [];

    internal MemberExecutor(string name, int threads)
    {
        for (var i = 0; i < threads; i++)
        {
            var thread = new Thread(Work) { IsBackground = true, Name = $"hsm-{name}-{i}" };
            thread.Start();
        }
    }

    /// <summary>Runs <paramref name="operation"/> on one of the member's threads; gives up waiting after <paramref name="timeout"/>.</summary>
    /// <exception cref="HsmTimeoutException">No answer in time (the call goes on in the background and is ignored).</exception>
    internal T Run<T>(Func<T> operation, TimeSpan timeout, Func<string> timeoutMessage)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _queue.Add(() =>
            {
                try
                {
                    completion.TrySetResult(operation());
                }
                catch (Exception ex)
                {
                    completion.TrySetException(ex);
                }
            });
        }
        catch (InvalidOperationException)
        {
            // Shut down meanwhile: the member was marked down and replaced.
            throw new HsmMemberDownException(timeoutMessage());
        }

        if (!WaitQuietly(completion.Task, timeout))
        {
            _ = completion.Task.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw new HsmTimeoutException(timeoutMessage());
        }

        return completion.Task.GetAwaiter().GetResult();
    }

    /// <summary>Waits up to <paramref name="timeout"/>; true when the task ended (its exception is rethrown by the caller, unwrapped).</summary>
    internal static bool WaitQuietly(Task task, TimeSpan timeout)
    {
        try
        {
            return task.Wait(timeout);
        }
        catch (AggregateException)
        {
            return true;
        }
    }

    private void Work()
    {
        foreach (var work in _queue.GetConsumingEnumerable())
        {
            work();
        }
    }

    /// <summary>Lets the threads finish what they hold (a hung call keeps its thread until the module answers) and end.</summary>
    public void Dispose() => _queue.CompleteAdding();
}
