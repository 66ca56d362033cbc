package zmtp

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/brookmq/brook/transport"
)

// Property names the engine itself reads or writes.
const (
	propSocketType = "Socket-Type"
	propIdentity   = "Identity"
	maxNameLen     = 255
)

// property is one READY metadata entry.
type property struct {
	name  string
	value []byte
}

// appendMetadata encodes properties as name-len(1) name value-len(4) value.
func appendMetadata(dst []byte, props []property) []byte {
	for _, p := range props {
		dst = append(dst, byte(len(p.name)))
		dst = append(dst, p.name...)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(p.value)))
		dst = append(dst, p.value...)
	}
	return dst
}

// parseMetadata decodes READY metadata. It copies b once, so the values it
// returns do not alias b. Names keep the case the peer used. Names are
// case-insensitive, so a name repeated in any case is one property: the
// last occurrence wins, under the spelling it used (keeping both would make
// lookups depend on map order).
func parseMetadata(b []byte) (map[string][]byte, error) {
	props := make(map[string][]byte)
	if len(b) == 0 {
		return props, nil
	}
	b = slices.Clone(b)
	spelled := make(map[string]string) // lower-case name -> its key in props
	for len(b) > 0 {
		n := int(b[0])
		if len(b) < 1+n+4 {
			return nil, protocolErrorf("truncated metadata property")
		}
		name := string(b[1 : 1+n])
		b = b[1+n:]
		vlen := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(vlen) > uint64(len(b)) {
			return nil, protocolErrorf("metadata property %q announces %d bytes, %d left", name, vlen, len(b))
		}
		lower := strings.ToLower(name)
		if prev, ok := spelled[lower]; ok {
			delete(props, prev)
		}
		spelled[lower] = name
		props[name] = b[:vlen:vlen]
		b = b[vlen:]
	}
	return props, nil
}

// lookup finds a property by case-insensitive name.
func lookup(props map[string][]byte, name string) ([]byte, bool) {
	return transport.PeerInfo{Properties: props}.Property(name)
}

// readyProperties builds and validates our READY metadata from cfg.
// Extra properties are sorted by name so the wire form is deterministic.
func readyProperties(cfg *transport.Config) ([]property, error) {
	st := strings.ToUpper(cfg.SocketType)
	if st == "" {
		return nil, fmt.Errorf("zmtp: Config.SocketType is empty")
	}
	props := []property{{propSocketType, []byte(st)}}
	if !transport.ValidIdentity(cfg.Identity) {
		return nil, fmt.Errorf("zmtp: invalid identity (%d bytes): at most 255 bytes, not starting with 0", len(cfg.Identity))
	}
	if cfg.AnnounceIdentity {
		id := cfg.Identity
		if id == nil {
			id = []byte{}
		}
		props = append(props, property{propIdentity, id})
	}
	names := make([]string, 0, len(cfg.Properties))
	for name := range cfg.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch {
		case name == "" || len(name) > maxNameLen:
			return nil, fmt.Errorf("zmtp: property name %q must be 1..255 bytes", name)
		case strings.EqualFold(name, propSocketType) || strings.EqualFold(name, propIdentity):
			return nil, fmt.Errorf("zmtp: property %q is set by the engine", name)
		case uint64(len(cfg.Properties[name])) > 1<<32-1:
			return nil, fmt.Errorf("zmtp: property %q value too long", name)
		}
		props = append(props, property{name, cfg.Properties[name]})
	}
	return props, nil
}
