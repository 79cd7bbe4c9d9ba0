package scanner

import (
	"context"
	"sync"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// Options configure a scan.
type Options struct {
	Dial DialOptions
	Walk WalkOptions
	// Connect overrides how sessions are opened (tests); nil means FTP.
	Connect func(ctx context.Context, t ftpaudit.Target) ftpaudit.Connector
	// ParallelHosts bounds how many hosts are walked at once; zero means 4.
	ParallelHosts int
	// Probe selects the active probe (off by default).
	Probe ProbeMode
	// Policy judges the results; nil means DefaultPolicy.
	Policy *Policy
	// Budget, when set, bounds the connections open at once across all
	// hosts.
	Budget *Budget
	// TargetDial and TargetWalk, when set, give a target its own dial and
	// walk options (a hosts file: password, TLS, connections, excludes);
	// nil means Dial and Walk for every target.
	TargetDial func(ftpaudit.Target) DialOptions
	TargetWalk func(ftpaudit.Target) WalkOptions
	// Manifest compares the tree with the archive's published index:
	// "auto" (every ls-lR, SHA256SUMS, MD5SUMS... found), an archive path,
	// or "" (off).
	Manifest string
}

// Scan walks every target, several hosts in parallel, and returns the
// results in the order of targets. It returns when every walk has ended;
// after cancellation the results are partial and say so.
func Scan(ctx context.Context, targets []ftpaudit.Target, opt Options) *ftpaudit.Result {
	res := &ftpaudit.Result{Started: time.Now(), Hosts: make([]*ftpaudit.HostResult, len(targets))}
	par := opt.ParallelHosts
	if par <= 0 {
		par = 4
		if opt.Budget != nil {
			par = len(targets) // the budget bounds the connections
		}
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
			}
			dial, walk := opt.Dial, opt.Walk
			if opt.TargetDial != nil {
				dial = opt.TargetDial(t)
			}
			if opt.TargetWalk != nil {
				walk = opt.TargetWalk(t)
			}
			st := &statState{}
			connect := func(ctx context.Context) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
				return dialFTP(ctx, t, dial, st)
			}
			if opt.Connect != nil {
				connect, st = opt.Connect(ctx, t), nil
			}
			if opt.Budget != nil {
				connect = budgeted(connect, opt.Budget)
			}
			h := Walk(ctx, t, connect, walk)
			if st != nil && !dial.NoStat && t.TLS == ftpaudit.TLSNone {
				r := st.report()
				h.Stat = &r
			}
			AfterWalk(ctx, h, connect, opt.Probe, opt.Manifest)
			res.Hosts[i] = h
		}()
	}
	wg.Wait()
	pol := opt.Policy
	if pol == nil {
		pol = DefaultPolicy()
	}
	for _, h := range res.Hosts {
		res.Findings = append(res.Findings, Judge(h, pol)...)
		if len(h.Manifests) > 0 {
			res.Findings = append(res.Findings, ManifestFindings(h, h.Manifests, pol)...)
		}
	}
	ftpaudit.SortFindings(res.Findings)
	res.Finished = time.Now()
	return res
}

// FTPConnector returns a Connector that dials t over FTP.
func FTPConnector(t ftpaudit.Target, opt DialOptions) ftpaudit.Connector {
	return func(ctx context.Context) (ftpaudit.Session, ftpaudit.ServerInfo, error) {
		return DialFTP(ctx, t, opt)
	}
}
