// Package docblock keeps the generated parts of the docs in step with the
// code: a block between the lines
//
//	<!-- BEGIN GENERATED: NAME (go generate ./...; do not edit) -->
//	<!-- END GENERATED: NAME -->
//
// is compared with what the code generates, and rewritten on request.
package docblock

import (
	"bytes"
	"fmt"
	"os"
)

// Sync compares the block NAME of the markdown file path with content.
// When update is set it rewrites the block and returns nil; otherwise it
// returns an error when they differ, saying how to regenerate.
func Sync(path, name, content string, update bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	begin := []byte("<!-- BEGIN GENERATED: " + name + " ")
	end := []byte("<!-- END GENERATED: " + name + " -->")
	i := bytes.Index(data, begin)
	if i < 0 {
		return fmt.Errorf("%s: no %q block", path, name)
	}
	i += bytes.IndexByte(data[i:], '\n') + 1
	j := bytes.Index(data[i:], end)
	if j < 0 {
		return fmt.Errorf("%s: block %q has no end marker", path, name)
	}
	j += i
	if string(data[i:j]) == content {
		return nil
	}
	if !update {
		return fmt.Errorf("%s: the generated block %q is out of date; run go generate ./... (or go test -run the test with -update-docs)", path, name)
	}
	out := append(append(append([]byte{}, data[:i]...), content...), data[j:]...)
	return os.WriteFile(path, out, 0o644)
}
