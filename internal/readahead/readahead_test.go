package readahead

import (
	"errors"
	"iter"
	"slices"
	"sync/atomic"
	"testing"
)

// count yields 0..n-1, then err if set, counting what it produced.
func count(n int, err error, produced *atomic.Int64) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			produced.Add(1)
			if !yield(i, nil) {
				return
			}
		}
		if err != nil {
			yield(0, err)
		}
	}
}

// Every value arrives, in order, whatever the batch size; an error comes
// after the values read before it.
func TestSeqOrderAndError(t *testing.T) {
	bad := errors.New("read failed")
	for _, size := range []int{1, 3, 256} {
		var p atomic.Int64
		seq, stop := Seq(count(1000, bad, &p), size)
		var got []int
		var gotErr error
		for v, err := range seq {
			if err != nil {
				gotErr = err
				break
			}
			got = append(got, v)
		}
		stop()
		stop() // safe twice
		want := make([]int, 1000)
		for i := range want {
			want[i] = i
		}
		if !slices.Equal(got, want) || gotErr != bad {
			t.Errorf("size %d: %d values, error %v", size, len(got), gotErr)
		}
	}
}

// A consumer that stops early stops the goroutine before stop returns,
// and at most the batches handed over, the four queued and the one being
// filled were read.
func TestSeqStop(t *testing.T) {
	for range 200 {
		var p atomic.Int64
		seq, stop := Seq(count(10000, nil, &p), 2)
		n := 0
		for range seq {
			if n++; n == 5 {
				break
			}
		}
		stop()
		stopped := p.Load()
		if stopped > 3*2+4*2+2 {
			t.Fatalf("read %d after a stop at 5 values", stopped)
		}
		if after := p.Load(); after != stopped {
			t.Fatalf("read %d, then %d after stop returned", stopped, after)
		}
	}
}

// A panic while reading is raised again in the consumer.
func TestSeqPanic(t *testing.T) {
	seq, stop := Seq(func(yield func(int, error) bool) {
		yield(1, nil)
		panic("boom")
	}, 1)
	defer stop()
	got := func() (p any) {
		defer func() { p = recover() }()
		for range seq {
		}
		return nil
	}()
	if got != "boom" {
		t.Errorf("recovered %v", got)
	}
}
