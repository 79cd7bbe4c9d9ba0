package history

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// The byte-exact encodings of schema.go: string lists and MLSD facts as
// a uvarint count followed by uvarint-length-prefixed strings; times as
// integers. The decoder also reads the host data of hostdata.go.

var errCodec = errors.New("malformed encoded value")

// encodeList encodes a string list; nil stays nil (NULL).
func encodeList(l []string) []byte {
	if l == nil {
		return nil
	}
	n := binary.MaxVarintLen64
	for _, s := range l {
		n += binary.MaxVarintLen64 + len(s)
	}
	b := make([]byte, 0, n)
	b = binary.AppendUvarint(b, uint64(len(l)))
	for _, s := range l {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// decodeList reverses encodeList.
func decodeList(b []byte) ([]string, error) {
	if b == nil {
		return nil, nil
	}
	d := decoder{b: b}
	n := d.count()
	l := make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		l = append(l, d.str())
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	return l, nil
}

// appendFacts appends MLSD facts to b as a list of keys and values, keys
// sorted.
func appendFacts(b []byte, m map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(2*len(m)))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(m[k])))
		b = append(b, m[k]...)
	}
	return b
}

// decodeFacts reverses encodeFacts.
func decodeFacts(b []byte) (map[string]string, error) {
	if b == nil {
		return nil, nil
	}
	l, err := decodeList(b)
	if err != nil {
		return nil, err
	}
	if len(l)%2 != 0 {
		return nil, fmt.Errorf("facts: %w (odd count)", errCodec)
	}
	m := make(map[string]string, len(l)/2)
	for i := 0; i < len(l); i += 2 {
		m[l[i]] = l[i+1]
	}
	return m, nil
}

type decoder struct {
	b   []byte
	err error
	// version is the value's format version (hostdata.go's values).
	version byte
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCodec
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a list length, bounded by the bytes left (each element
// takes at least one byte), so that a damaged value cannot make it
// allocate without bound.
func (d *decoder) count() int {
	v := d.uvarint()
	if v > uint64(len(d.b)) {
		d.err = errCodec
		return 0
	}
	return int(v)
}

func (d *decoder) str() string {
	v := d.uvarint()
	if d.err != nil {
		return ""
	}
	if v > uint64(len(d.b)) {
		d.err = errCodec
		return ""
	}
	s := string(d.b[:v])
	d.b = d.b[v:]
	return s
}

// byte reads one byte.
func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = errCodec
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// bool reads a byte that must be 0 or 1.
func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.err = errCodec
	return false
}

// int64 reads a signed varint.
func (d *decoder) int64() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errCodec
		return 0
	}
	d.b = d.b[n:]
	return v
}

// int reads a signed varint that must fit an int.
func (d *decoder) int() int {
	v := d.int64()
	if int64(int(v)) != v {
		d.err = errCodec
		return 0
	}
	return int(v)
}

// time reads a time of hostdata.go, in UTC.
func (d *decoder) time() time.Time {
	if !d.bool() {
		return time.Time{}
	}
	sec := d.int64()
	ns := d.uvarint()
	if ns > 999_999_999 {
		d.err = errCodec
	}
	if d.err != nil {
		return time.Time{}
	}
	return time.Unix(sec, int64(ns)).UTC()
}

// optCount reads the count of a list that may be nil (count+1, 0 for
// nil), bounded like count.
func (d *decoder) optCount() (n int, isNil bool) {
	v := d.uvarint()
	if d.err != nil || v == 0 {
		return 0, true
	}
	if v-1 > uint64(len(d.b)) {
		d.err = errCodec
		return 0, true
	}
	return int(v - 1), false
}

// optBytes reads bytes that may be nil.
func (d *decoder) optBytes() []byte {
	n, isNil := d.optCount()
	if isNil {
		return nil
	}
	b := make([]byte, n)
	copy(b, d.b)
	d.b = d.b[n:]
	return b
}

// optList reads a string list that may be nil.
func (d *decoder) optList() []string {
	n, isNil := d.optCount()
	if isNil {
		return nil
	}
	l := make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		l = append(l, d.str())
	}
	return l
}

func (d *decoder) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = errCodec
	}
	return d.err
}

// Unix nanoseconds represent times from 1678 to 2262.
var (
	minNanoTime = time.Unix(0, math.MinInt64)
	maxNanoTime = time.Unix(0, math.MaxInt64)
)

// nanoValue stores a scan or host time: NULL when zero, Unix ns
// otherwise.
func nanoValue(t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	if t.Before(minNanoTime) || t.After(maxNanoTime) {
		return nil, fmt.Errorf("time %s out of range", t.Format(time.RFC3339))
	}
	return t.UnixNano(), nil
}

// nanoTime reverses nanoValue.
func nanoTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, nil
	case int64:
		return time.Unix(0, x).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("time: %w (%T)", errCodec, v)
}

// secTime rebuilds an entry or finding time from its two columns.
func secTime(sec, nsec any) (time.Time, error) {
	s, ok := sec.(int64)
	if !ok {
		if sec == nil {
			return time.Time{}, nil
		}
		return time.Time{}, fmt.Errorf("time: %w (%T)", errCodec, sec)
	}
	var ns int64
	switch x := nsec.(type) {
	case nil:
	case int64:
		ns = x
	default:
		return time.Time{}, fmt.Errorf("time: %w (%T)", errCodec, nsec)
	}
	return time.Unix(s, ns).UTC(), nil
}

// secValues splits a time into its two columns.
func secValues(t time.Time) (sec, nsec any) {
	if t.IsZero() {
		return nil, nil
	}
	if ns := t.Nanosecond(); ns != 0 {
		nsec = int64(ns)
	}
	return t.Unix(), nsec
}

// text returns a nullable TEXT or BLOB column as a string.
func text(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	}
	return "", fmt.Errorf("text: %w (%T)", errCodec, v)
}
