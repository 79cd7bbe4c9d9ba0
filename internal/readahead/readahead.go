// Package readahead reads a sequence in a goroutine of its own, a few
// batches ahead of its consumer, so that producing the values (decoding
// entries, reading rows) and using them run on two cores.
package readahead

import "iter"

// Seq runs seq in a goroutine, handing its values over in batches
// of size (up to four batches ahead), whose buffers go back to it once
// yielded. A panic in seq is raised again in the caller. stop ends the
// goroutine early and waits for it (it is also safe after the end).
func Seq[T any](seq iter.Seq2[T, error], size int) (iter.Seq2[T, error], func()) {
	type batch struct {
		vs  []T
		err error
		pan any
	}
	const ahead = 4
	ch := make(chan batch, ahead)
	free := make(chan []T, ahead+2) // every buffer there is fits
	done := make(chan struct{})     // closed by stop
	exited := make(chan struct{})   // closed when the goroutine returns
	go func() {
		defer close(exited)
		defer close(ch)
		send := func(bt batch) bool {
			// Once stopped, nothing more is sent (and so read): a
			// select with room in ch and done closed picks either.
			select {
			case <-done:
				return false
			default:
			}
			select {
			case ch <- bt:
				return true
			case <-done:
				return false
			}
		}
		defer func() {
			if p := recover(); p != nil {
				send(batch{pan: p})
			}
		}()
		buffer := func() []T {
			select {
			case b := <-free:
				return b[:0]
			default:
				return make([]T, 0, size)
			}
		}
		b := buffer()
		for v, err := range seq {
			if err != nil {
				if len(b) > 0 && !send(batch{vs: b}) {
					return
				}
				send(batch{err: err})
				return
			}
			b = append(b, v)
			if len(b) == size {
				if !send(batch{vs: b}) {
					return
				}
				b = buffer()
			}
		}
		if len(b) > 0 {
			send(batch{vs: b})
		}
	}()
	var once bool
	stop := func() {
		if !once {
			once = true
			// Not a drain of ch, which would make room for the
			// goroutine to send, and read, more.
			close(done)
			<-exited
		}
	}
	return func(yield func(T, error) bool) {
		var zero T
		for bt := range ch {
			if bt.pan != nil {
				panic(bt.pan)
			}
			if bt.err != nil {
				yield(zero, bt.err)
				return
			}
			for i := range bt.vs {
				if !yield(bt.vs[i], nil) {
					return
				}
			}
			// Yielded as copies: the buffer is free again, cleared so
			// that it holds nothing for the collector.
			clear(bt.vs)
			select {
			case free <- bt.vs:
			default:
			}
		}
	}, stop
}
