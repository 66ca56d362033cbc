//go:build race

package zmtp

// raceEnabled: the race detector is on, and its sync.Pool drops at random
// what it is given.
const raceEnabled = true
