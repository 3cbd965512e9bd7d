using System.Collections.Concurrent;
using System.Diagnostics;
using MiniCa.Core.Ledger;
using MiniCa.Core.Issuance;
using MiniCa.Hsm;
using MiniCa.TestSupport;
using Xunit.Abstractions;

namespace MiniCa.Cluster.Tests;

/// <summary>A member really dies (its p11-kit server is killed) while certificates are issued from several threads.</summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task KillOneMember_DuringIssuance_EveryIssuanceSucceedsAndTheMemberIsReadmitted()
    {
        await using var ca = await ClusterCa.StartAsync();
        var a = ca.Cluster["a"];
        var b = ca.Cluster["b"];
        Assert.Equal(HsmMemberState.Up, a.State);
        Assert.Equal(HsmMemberState.Up, b.State);

        var issued = new ConcurrentBag<byte[]>();
        var failures = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var outcome = await ca.IssueAsync($"w{w}-{i}.cluster.example.com");
                if (outcome.Status == RequestStatus.Issued)
                {
                    issued.Add(outcome.Certificate!);
                }
                else
                {
                    failures.Add(string.Join("; ", outcome.Problems));
                }
            }
        })).ToList();

        await Task.Delay(1500);
        var beforeKill = issued.Count;
        var aOperationsBeforeKill = a.Operations;
        Assert.True(aOperationsBeforeKill > 0, "member a signed nothing before it was killed: the load is not spread");
        ca.A.Kill();
        await WaitFor(() => a.State == HsmMemberState.Down, TimeSpan.FromSeconds(10), "member a to be marked down");
        var duringOutage = issued.Count;
        await Task.Delay(1500);
        Assert.True(issued.Count > duringOutage, "nothing was issued while member a was down");

        ca.A.Start();
        await WaitFor(() => a.State == HsmMemberState.Up, TimeSpan.FromSeconds(20), "member a to be readmitted");
        var aOperationsAfterReadmission = a.Operations;
        await Task.Delay(1500);
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        output.WriteLine($"issued {issued.Count} (before kill {beforeKill}), failures {failures.Count}; a: {a.GetStatus()}; b: {b.GetStatus()}");
        Assert.Empty(failures);
        Assert.True(issued.Count > beforeKill + 10, $"only {issued.Count} issued");
        Assert.Equal(1, a.Failures);
        Assert.Equal(1, a.Readmissions);
        Assert.True(a.Operations > aOperationsAfterReadmission, "member a took no operations after readmission");
        Assert.Equal(0, b.Failures);

        // Every certificate in the database verifies, and there are as many as the workers counted.
        var reader = ca.Services.GetService(typeof(IIssuanceReader)) as IIssuanceReader;
        var counts = await reader!.CountCertificatesAsync();
        Assert.Equal(issued.Count, counts[CertificateStatus.Issued]);
        var sample = issued.Take(50).Select((der, i) => (der, i)).ToList();
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        foreach (var (der, i) in sample)
        {
            var file = Path.Combine(ca.WorkDirectory, $"leaf-{i}.pem");
            await File.WriteAllTextAsync(file, CertificateFormats.ToPem(der));
            var verify = await ProcessRunner.RunAsync(openssl, ["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", Path.Combine(ca.CaDirectory, "root.pem"), "-untrusted", Path.Combine(ca.CaDirectory, "issuing.pem"), file]);
            Assert.True(verify.ExitCode == 0, verify.StandardError);
        }
    }

    [Fact]
    public async Task FreezeOneMember_DuringIssuance_CallsInFlightMoveOnAfterTheTimeoutAndNothingFails()
    {
        await using var ca = await ClusterCa.StartAsync(probeSeconds: 1, timeoutSeconds: 1);
        var a = ca.Cluster["a"];
        var failures = new ConcurrentBag<string>();
        var latencies = new ConcurrentBag<double>();
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 3).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var clock = Stopwatch.StartNew();
                var outcome = await ca.IssueAsync($"f{w}-{i}.cluster.example.com");
                latencies.Add(clock.Elapsed.TotalSeconds);
                if (outcome.Status != RequestStatus.Issued)
                {
                    failures.Add(string.Join("; ", outcome.Problems));
                }
            }
        })).ToList();

        await Task.Delay(1000);
        ca.A.Pause();
        await WaitFor(() => a.State == HsmMemberState.Down, TimeSpan.FromSeconds(10), "the frozen member to be marked down");
        Assert.Contains("did not", a.LastError, StringComparison.Ordinal);
        var whileFrozen = latencies.Count;
        await Task.Delay(2000);
        Assert.True(latencies.Count > whileFrozen + 10, "issuance stalled while member a was frozen");

        ca.A.Resume();
        await WaitFor(() => a.State == HsmMemberState.Up, TimeSpan.FromSeconds(30), "the thawed member to be readmitted");
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        output.WriteLine($"issued {latencies.Count}, failures {failures.Count}, max latency {latencies.Max():0.000} s; a: {a.GetStatus()}");
        Assert.Empty(failures);
        // The calls caught in the frozen member waited for the timeout (1 s), not for ever.
        Assert.InRange(latencies.Max(), 0.9, 3.5);
        Assert.True(a.Readmissions >= 1);
    }

    private static async Task WaitFor(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < timeout, $"timed out after {timeout.TotalSeconds} s waiting for {what}");
            await Task.Delay(50);
        }
    }
}
