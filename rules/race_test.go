//go:build race

package rules

// raceEnabled is set when the race detector is on: the large tests
// shrink, since it makes them 10 to 20 times slower.
const raceEnabled = true
