package config

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxSize is the largest message size mqbench sends (brook's default
// maximum inbound message size).
const MaxSize = 256 << 20

// maxSizes bounds how many sizes one invocation may list or sweep.
const maxSizes = 64

// ParseSizes parses --size: a comma-separated list whose items are a size
// ("64", "1k", "4KiB", "1m") or a geometric sweep "from..toxfactor"
// ("64..65536x4" is 64, 256, 1024, 4096, 16384, 65536; the sweep stops at
// the last size not above "to"). k/K/KiB mean 1024 and m/M/MiB 1<<20.
// Sizes must be between 1 and MaxSize; at most 64 sizes in all.
func ParseSizes(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("%w: --size: empty", ErrUsage)
	}
	var out []int
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		var sizes []int
		var err error
		if strings.Contains(item, "..") {
			sizes, err = parseSweep(item)
		} else {
			var n int
			n, err = parseSize(item)
			sizes = []int{n}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: --size %q: %w", ErrUsage, s, err)
		}
		out = append(out, sizes...)
		if len(out) > maxSizes {
			return nil, fmt.Errorf("%w: --size %q: more than %d sizes", ErrUsage, s, maxSizes)
		}
	}
	return out, nil
}

// parseSweep parses "from..toxfactor".
func parseSweep(item string) ([]int, error) {
	from, rest, _ := strings.Cut(item, "..")
	to, factor, ok := strings.Cut(rest, "x")
	if !ok {
		return nil, fmt.Errorf("sweep %q needs a factor: from..toxfactor, e.g. 64..65536x4", item)
	}
	lo, err := parseSize(from)
	if err != nil {
		return nil, err
	}
	hi, err := parseSize(to)
	if err != nil {
		return nil, err
	}
	f, err := strconv.Atoi(strings.TrimSpace(factor))
	if err != nil || f < 2 || f > 1024 {
		return nil, fmt.Errorf("sweep factor %q must be an integer from 2 to 1024", factor)
	}
	if lo > hi {
		return nil, fmt.Errorf("sweep %q goes down: %d > %d", item, lo, hi)
	}
	var out []int
	for n := lo; n <= hi; n *= f {
		out = append(out, n)
		if len(out) > maxSizes {
			return nil, fmt.Errorf("sweep %q gives more than %d sizes", item, maxSizes)
		}
	}
	return out, nil
}

// parseSize parses one size with an optional binary unit.
func parseSize(s string) (int, error) {
	s = strings.TrimSpace(s)
	mult := 1
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"k", 1 << 10}, {"K", 1 << 10}, {"m", 1 << 20}, {"M", 1 << 20}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("size %q is not a number of bytes (examples: 64, 1k, 4KiB)", s)
	}
	if n < 1 || n > MaxSize/mult {
		return 0, fmt.Errorf("size %d×%d is out of range 1..%d bytes", n, mult, MaxSize)
	}
	return n * mult, nil
}
