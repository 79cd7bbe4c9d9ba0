//go:build race

package ftpconn

// raceEnabled is set under the race detector, which makes the listing
// buffer's stress tests several times slower: they then do fewer rounds.
const raceEnabled = true
