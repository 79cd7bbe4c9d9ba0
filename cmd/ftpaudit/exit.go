package main

import (
	"context"
	"errors"
)

// Exit codes. They are chosen in exitCode and nowhere else.
const (
	exitClean       = 0   // complete scan, nothing at or above --fail-on
	exitFindings    = 1   // findings at or above --fail-on
	exitUsage       = 2   // bad flags, targets or configuration
	exitIncomplete  = 3   // a host unreachable, login refused, a listing failed or was cut short
	exitInternal    = 4   // the scan ran but its results could not be written
	exitInterrupted = 130 // SIGINT or SIGTERM
)

// usageError marks errors in what the user asked for.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// outputError marks failures to write results.
type outputError struct{ err error }

func (e outputError) Error() string { return e.err.Error() }
func (e outputError) Unwrap() error { return e.err }

// outcome is what a command learned, for exitCode to judge.
type outcome struct {
	err         error
	interrupted bool
	incomplete  bool
	findings    bool
}

// exitCode is the one place where a command's outcome becomes an exit
// code. Precedence: interrupted, usage, output failure, incomplete,
// findings, clean. An incomplete scan outranks findings because it means
// a clean result could not have been proven either.
func exitCode(o outcome) int {
	var ue usageError
	var oe outputError
	switch {
	case o.interrupted || errors.Is(o.err, context.Canceled):
		return exitInterrupted
	case errors.As(o.err, &ue):
		return exitUsage
	case errors.As(o.err, &oe):
		return exitInternal
	case o.err != nil:
		return exitInternal
	case o.incomplete:
		return exitIncomplete
	case o.findings:
		return exitFindings
	}
	return exitClean
}
