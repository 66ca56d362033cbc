//go:build race

package zmtp

// raceOn says the race detector is on (its sync.Pool drops some of what
// it is given, so allocation counts differ).
const raceOn = true
