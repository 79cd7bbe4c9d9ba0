package scanner

import "time"

// Severity ranks findings. Higher is worse.
type Severity int

// Severities, lowest first.
const (
	SevInfo Severity = iota
	SevLow
	SevMedium
	SevHigh
	SevCritical
)

var sevNames = [...]string{"info", "low", "medium", "high", "critical"}

// String returns the lower-case name ("high").
func (s Severity) String() string {
	if s < 0 || int(s) >= len(sevNames) {
		return "unknown"
	}
	return sevNames[s]
}

// ParseSeverity parses a severity name.
func ParseSeverity(s string) (Severity, bool) {
	for i, n := range sevNames {
		if n == s {
			return Severity(i), true
		}
	}
	return 0, false
}

// Finding is one thing wrong (or worth knowing) about a host, with the
// evidence it rests on and what to do about it.
type Finding struct {
	// Host is the target URL the finding belongs to.
	Host string
	// Path is the exact path (server bytes) the finding is about; "/" for
	// host-wide findings.
	Path string
	// Rule is the stable rule ID ("writable-dir").
	Rule     string
	Severity Severity
	// Evidence says what the finding rests on, one fact per element
	// ("mode drwxrwxrwx: others may write", "probe: STOR accepted").
	Evidence []string
	// Size and Modified of the entry, when known (Size -1 when not).
	Size     int64
	Modified time.Time
	// Action is what the operator should do.
	Action string
}

// ProbeStep is one half of the active probe in a directory: the canary
// file (zero-byte STOR) or the canary directory (MKD).
type ProbeStep struct {
	// Tried is false when the step was not attempted.
	Tried bool
	// Accepted is true when the server created the canary.
	Accepted bool
	// Reply is the server's reply (or the error) to STOR or MKD.
	Reply string
	// Removed is true when the canary was removed and a check (listing,
	// or SIZE where the directory cannot be listed) confirmed it gone.
	Removed bool
	// RemoveReply is the reply to DELE or RMD, or why removal failed.
	RemoveReply string
	// Path is the canary's exact path.
	Path string
}

// ProbeResult is the outcome of the active probe (--probe) in one
// directory.
type ProbeResult struct {
	Dir   string
	File  ProbeStep
	Mkdir ProbeStep
	// Readable is set when the uploaded canary file could be downloaded
	// again: an upload area that serves uploads.
	Readable bool
	// Skipped says why the probe did not run here, if it did not.
	Skipped string
}

// Residue returns the canary paths this probe left behind.
func (p ProbeResult) Residue() []string {
	var out []string
	for _, s := range []ProbeStep{p.File, p.Mkdir} {
		if s.Accepted && !s.Removed {
			out = append(out, s.Path)
		}
	}
	return out
}

// FetchedFile is a small file the scan downloaded to judge its content
// (for example etc/passwd).
type FetchedFile struct {
	Path string
	Data []byte
	// Err is set when the download failed.
	Err string
}
