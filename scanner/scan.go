package scanner

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// Job is one target to walk: how to reach it and how to walk it. The
// caller builds the connector (the FTP adapter in internal/ftpconn, or a test
// server's), so that the walk never depends on a protocol client.
type Job struct {
	Target  ftpaudit.Target
	Connect ftpaudit.Connector
	Walk    WalkOptions
	// StatReport, when set, is called once the walk has ended for the
	// connector's report on listing over the control connection; nil,
	// or a nil report, means there is none.
	StatReport func() *ftpaudit.StatReport
	// Dialect, when set, is called once the walk has ended for the
	// connector's report on the host's listing dialect. A Limit in it
	// costs the host its completeness.
	Dialect func() *ftpaudit.DialectReport
	// Timeout is the host's time budget: the walk and what follows it
	// (probe, manifest) stop when it is spent, and the host is reported
	// incomplete with TimeoutCause (or a generic reason); other hosts go
	// on. Zero means none.
	Timeout time.Duration
	// TimeoutCause is the reason reported when Timeout is reached.
	TimeoutCause error
}

// Options configure a scan.
type Options struct {
	// ParallelHosts bounds how many hosts are walked at once; zero means 4
	// (every host when Budget is set: the budget bounds the connections).
	ParallelHosts int
	// Probe selects the active probe (off by default).
	Probe ProbeMode
	// Budget, when set, bounds the connections open at once across all
	// hosts.
	Budget *Budget
	// Manifest compares the tree with the archive's published index:
	// "auto" (every ls-lR, SHA256SUMS, MD5SUMS... found), an archive path,
	// or "" (off).
	Manifest string
}

// Scan walks every job, several hosts in parallel, and returns the
// results in the order of jobs, with no findings: judging is the rules'
// job. It returns when every walk has ended; after cancellation the
// results are partial and say so.
func Scan(ctx context.Context, jobs []Job, opt Options) *ftpaudit.Result {
	res := &ftpaudit.Result{Started: time.Now(), Hosts: make([]*ftpaudit.HostResult, len(jobs))}
	par := opt.ParallelHosts
	if par <= 0 {
		par = 4
		if opt.Budget != nil {
			par = len(jobs)
		}
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
			}
			res.Hosts[i] = scanHost(ctx, j, opt)
		}()
	}
	wg.Wait()
	res.Finished = time.Now()
	return res
}

// scanHost walks one job within its time budget. A panic in the walk (a
// bug that some server's answers reach) is recovered and reported as that
// host's error, incomplete: it never ends the other hosts' walks.
func scanHost(ctx context.Context, j Job, opt Options) (h *ftpaudit.HostResult) {
	if j.Timeout > 0 {
		cause := j.TimeoutCause
		if cause == nil {
			cause = fmt.Errorf("host time budget (%s) reached", j.Timeout)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, j.Timeout, cause)
		defer cancel()
	}
	defer func() {
		if v := recover(); v != nil {
			if h == nil {
				h = &ftpaudit.HostResult{Target: j.Target, Started: time.Now()}
			}
			h.Finished = time.Now()
			h.Complete = false
			h.Incomplete = append(h.Incomplete, fmt.Sprintf("internal error (panic) while scanning this host: %v", v))
			h.Errors = append(h.Errors, ftpaudit.PathError{Path: j.Target.Start, Error: fmt.Sprintf("panic: %v", v)})
		}
	}()
	connect := j.Connect
	if opt.Budget != nil {
		connect = budgeted(connect, opt.Budget)
	}
	h, cands := walk(ctx, j.Target, connect, j.Walk)
	if j.StatReport != nil {
		h.Stat = j.StatReport()
	}
	if j.Dialect != nil {
		if h.Dialect = j.Dialect(); h.Dialect != nil && h.Dialect.Limit != "" {
			h.Incomplete = append(h.Incomplete, h.Dialect.Limit)
			h.Complete = false
		}
	}
	afterWalk(ctx, h, connect, opt.Probe, opt.Manifest, cands)
	return h
}
