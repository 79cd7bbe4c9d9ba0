package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// An output path (-o, --metrics-file) is written so that it never
// destroys what it points at:
//   - a regular file (or a new one) is replaced atomically: a temporary
//     file in the same directory, renamed over it, with the old file's
//     mode kept (a new file gets 0666 less the umask, like any tool's
//     output);
//   - a symlink is followed: its target is replaced atomically, in the
//     target's directory, and the link stays a link;
//   - a device, FIFO or socket (/dev/null, /dev/stdout, a pipe) is written
//     straight into, never replaced;
//   - a directory is refused.
// checkOutput runs the same resolution before the walk, so that a bad path
// is reported at once, naming the path the user gave.

// outputTarget is where an output path really leads.
type outputTarget struct {
	path   string      // the file to replace, or to write into
	direct bool        // write into path (not a regular file)
	mode   fs.FileMode // the mode to give a replacement
}

// resolveOutput follows path to what it names.
func resolveOutput(path string) (outputTarget, error) {
	real, err := filepath.EvalSymlinks(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// A new file, or a dangling link: follow the link by hand to the
		// file it names.
		real = path
		if l, lerr := os.Readlink(path); lerr == nil {
			if !filepath.IsAbs(l) {
				l = filepath.Join(filepath.Dir(path), l)
			}
			real = l
		}
	case err != nil:
		return outputTarget{}, err
	}
	fi, err := os.Stat(real)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return outputTarget{path: real, mode: 0o666 &^ fs.FileMode(umask())}, nil
	case err != nil:
		return outputTarget{}, err
	case fi.IsDir():
		return outputTarget{}, errors.New("is a directory")
	case !fi.Mode().IsRegular():
		return outputTarget{path: real, direct: true}, nil
	}
	return outputTarget{path: real, mode: fi.Mode().Perm()}, nil
}

// checkOutput reports, before any work, whether path can be written: its
// directory exists and takes new files (or, for a device, the device
// opens for writing). The error names path as given.
func checkOutput(path string) error {
	if path == "" || path == "-" {
		return nil
	}
	t, err := resolveOutput(path)
	if err != nil {
		return outputError{fmt.Errorf("cannot write %s: %w", path, err)}
	}
	if t.direct {
		f, err := os.OpenFile(t.path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err != nil && !errors.Is(err, syscall.ENXIO) { // a FIFO without a reader yet
			return outputError{fmt.Errorf("cannot write %s: %w", path, err)}
		}
		if f != nil {
			_ = f.Close()
		}
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(t.path), "."+filepath.Base(t.path)+".check*")
	if err != nil {
		return outputError{fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))}
	}
	_ = f.Close()
	_ = os.Remove(f.Name())
	return nil
}

// writeOutput writes a report to path as described above; "" and "-" mean
// stdout. An error names path as given, never a temporary file.
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" || path == "-" {
		if err := write(stdout); err != nil {
			return outputError{fmt.Errorf("write results: %w", err)}
		}
		return nil
	}
	t, err := resolveOutput(path)
	if err != nil {
		return outputError{fmt.Errorf("write %s: %w", path, err)}
	}
	if t.direct {
		f, err := os.OpenFile(t.path, os.O_WRONLY, 0)
		if err != nil {
			return outputError{fmt.Errorf("write %s: %w", path, unwrapPath(err))}
		}
		err = write(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return outputError{fmt.Errorf("write %s: %w", path, unwrapPath(err))}
		}
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(t.path), "."+filepath.Base(t.path)+".tmp*")
	if err != nil {
		return outputError{fmt.Errorf("write %s: %w", path, unwrapPath(err))}
	}
	tmp := f.Name()
	err = write(f)
	if err == nil {
		err = f.Chmod(t.mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, t.path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return outputError{fmt.Errorf("write %s: %w", path, unwrapPath(err))}
	}
	return nil
}

// unwrapPath drops the file name from an *fs.PathError or *os.LinkError,
// so that a message names the user's path and not a temporary file.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// umask is the process's file mode creation mask, read from
// /proc/self/status (setting it to read it would race with other
// goroutines creating files); 022 when it cannot be read.
func umask() int {
	b, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Umask:"); ok {
				if m, err := strconv.ParseInt(strings.TrimSpace(v), 8, 32); err == nil {
					return int(m)
				}
			}
		}
	}
	return 0o22
}
