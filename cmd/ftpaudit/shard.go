package main

// scan --shard K/N: a fleet split between N jobs (cron, systemd timers,
// a Kubernetes indexed Job), each scanning its share of the targets and
// saving to a shared store. There is no coordinator: every job reads the
// same targets and computes the same assignment on its own, so the
// assignment must depend on nothing but a target and N (docs/fleets.md,
// "Splitting a fleet").

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/ftpaudit/ftpaudit"
)

// shard is --shard K/N: this run scans the targets whose shard is K of
// N. Shards are numbered from 1. The zero value (no --shard) scans every
// target.
type shard struct {
	k, n int // 1 <= k <= n; n == 0 without --shard
}

// shardFlag defines --shard on fs (scan only).
func shardFlag(fs *flag.FlagSet, s *shard) {
	fs.Var(s, "shard", "scan only the targets of shard `K/N` (1/N to N/N): every target, of --hosts and the command line, "+
		"is in exactly one of N shards, chosen by a hash of its scheme, user, host and port (never its place in the file); "+
		"N runs, 1/N to N/N, scan each target once; a shard with no target scans nothing and exits 0 (see docs/fleets.md)")
}

// String is "K/N", or "" without --shard.
func (s *shard) String() string {
	if s == nil || s.n == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.k, s.n)
}

// Set parses K/N: decimal digits, 1 <= K <= N.
func (s *shard) Set(v string) error {
	ks, ns, ok := strings.Cut(v, "/")
	k, errK := shardNumber(ks)
	n, errN := shardNumber(ns)
	switch {
	case !ok || errK != nil || errN != nil:
		return errors.New("want K/N, this run's shard K of N shards, as 1/4 to 4/4")
	case n < 1:
		return errors.New("want at least 1 shard")
	case k < 1 || k > n:
		return fmt.Errorf("want K from 1 to %d: shards are numbered from 1 (1/%d to %d/%d)", n, n, n, n)
	}
	s.k, s.n = k, n
	return nil
}

// shardNumber parses K or N of --shard: decimal digits only (no sign, no
// space), at most 2^31-1.
func shardNumber(s string) (int, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, strconv.ErrSyntax
	}
	n, err := strconv.ParseInt(s, 10, 32)
	return int(n), err
}

// pick returns the targets of ts in shard s, in their order; all of them
// without --shard.
func (s *shard) pick(ts []ftpaudit.Target) []ftpaudit.Target {
	if s.n == 0 {
		return ts
	}
	var out []ftpaudit.Target
	for _, t := range ts {
		if shardOf(t, s.n) == s.k {
			out = append(out, t)
		}
	}
	return out
}

// shardOf returns the shard (1 to n) of target t among n shards. It
// depends on t.URL alone: the canonical scheme://[user@]host:port the
// report names the target by, without the start directory, so that the
// start directories of one hosts-file entry stay together and each host
// label of the metrics is written by one shard only. The value is the
// jump consistent hash (Lamping and Veach, 2014) of the first 8 bytes,
// big-endian, of the SHA-256 of t.URL, plus 1. It is the same on every
// machine and in every release (TestShardPinned): jobs of one fleet
// compute it apart and must agree. Growing n by one moves only the
// targets that go to the new shard n; the others keep theirs.
func shardOf(t ftpaudit.Target, n int) int {
	sum := sha256.Sum256([]byte(t.URL))
	return jumpHash(binary.BigEndian.Uint64(sum[:8]), n) + 1
}

// jumpHash is the jump consistent hash of key over n buckets (0 to n-1),
// in integer arithmetic: the published version's floating point is
// replaced by the exact quotient, so that no machine rounds it otherwise.
// The buckets a key jumps to form an increasing sequence that depends on
// the key alone; the result is the last one below n.
func jumpHash(key uint64, n int) int {
	b, j := int64(-1), int64(0)
	for j < int64(n) {
		b = j
		key = key*2862933555777941757 + 1
		// (b+1) < 2^31 and the divisor is 1 to 2^31: j > b, no overflow.
		j = int64((uint64(b+1) << 31) / ((key >> 33) + 1))
	}
	return int(b)
}
