//go:build race

package history

// raceEnabled is set under the race detector, which makes SQLite (Go
// translated from C) many times slower: the tests then use less data.
const raceEnabled = true
