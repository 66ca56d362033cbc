package config

import (
	"flag"
	"os"
)

// QUIC names the TLS files of quic:// runs. Without them mqbench makes a
// self-signed certificate per process, which only that process trusts:
// enough for --role both. Across two processes (--role local and
// remote) the binding side presents Cert and Key, and the connecting side
// trusts CA (or the system roots).
type QUIC struct {
	// Cert is a PEM file with the certificate chain the binding side
	// presents (leaf first); Key is a PEM file with its private key.
	Cert, Key string
	// CA is a PEM file with the certificates the connecting side trusts;
	// empty means the system roots. A self-signed Cert can be its own CA.
	CA string
}

// SelfSigned reports whether no file was given: the process makes and
// trusts its own certificate.
func (q QUIC) SelfSigned() bool { return q == QUIC{} }

// addQUICFlags declares the QUIC certificate flags.
func addQUICFlags(fs *flag.FlagSet, q *QUIC) {
	fs.StringVar(&q.Cert, "quic-cert", "", "quic: PEM certificate chain the binding side presents (with --quic-key; default: a self-signed one, --role both only)")
	fs.StringVar(&q.Key, "quic-key", "", "quic: PEM private key of --quic-cert")
	fs.StringVar(&q.CA, "quic-ca", "", "quic: PEM certificates the connecting side trusts (default: the system roots, or the self-signed one)")
}

// validateQUIC checks the QUIC certificate flags: they apply to quic only,
// come as a pair where they must, name readable files, and are given
// where a side needs them.
func (c *Config) validateQUIC(set map[string]bool) error {
	q := c.QUIC
	if q.SelfSigned() {
		if c.Transport == "quic" && c.Role != Both {
			return usagef("--role %s over quic runs in two processes, which cannot share a self-signed certificate: give --quic-cert and --quic-key to the local side and --quic-ca to the remote side", c.Role)
		}
		return nil
	}
	if c.Transport != "quic" {
		return usagef("--quic-cert, --quic-key and --quic-ca apply to --transport quic only")
	}
	if (q.Cert == "") != (q.Key == "") {
		return usagef("--quic-cert and --quic-key go together")
	}
	if q.Cert == "" && c.Role != Remote {
		return usagef("--role %s binds over quic: it needs --quic-cert and --quic-key", c.Role)
	}
	for flagName, path := range map[string]string{"quic-cert": q.Cert, "quic-key": q.Key, "quic-ca": q.CA} {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			return usagef("--%s: %v", flagName, err)
		}
	}
	return nil
}
