package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/brookmq/brook/auth"
	"github.com/brookmq/brook/curve"
	"github.com/brookmq/brook/socket"
)

// The CURVE layout of a certificate directory (-curve DIR):
//
//	DIR/service.key, service.key_secret
//	    the service's key pair, shared by every instance's ROUTER: an
//	    instance's DEALER connects to all of them with one server key
//	DIR/instances/
//	    the public certificates of the instances admitted: each ROUTER
//	    admits the DEALERs whose keys are here (reread when it changes)
//	DIR/instances/instance-N.key, instance-N.key_secret
//	    instance N's own key pair (its DEALER's), loaded, or made on its
//	    first start; -curve-cert puts it elsewhere, outside the trust
const (
	serviceCertName = "service.key"
	trustedDirName  = "instances"
)

// instanceCertPath is where instance self keeps its certificate.
func instanceCertPath(dir string, self int) string {
	return filepath.Join(dir, trustedDirName, fmt.Sprintf("instance-%d.key", self))
}

// curveSetup is an instance's CURVE configuration: the options of its two
// sockets and its own public key.
type curveSetup struct {
	routerOpt, dealerOpt socket.Option
	own                  curve.Key
}

// loadCurve reads the service's certificate and the instance's own
// (made when missing), and trusts the certificates in DIR/instances.
func loadCurve(dir, certPath string) (*curveSetup, error) {
	service, err := curve.LoadCertificate(filepath.Join(dir, serviceCertName))
	if err != nil {
		return nil, fmt.Errorf("the service certificate (make one with `brookcat -keygen %s`): %w", filepath.Join(dir, serviceCertName), err)
	}
	if !service.HasSecret() {
		return nil, fmt.Errorf("%s has no secret key next to it", filepath.Join(dir, serviceCertName))
	}
	own, err := loadOrCreateCert(certPath)
	if err != nil {
		return nil, err
	}
	trusted := auth.New()
	if err := trusted.UseCertificateDir(filepath.Join(dir, trustedDirName)); err != nil {
		return nil, err
	}
	return &curveSetup{
		routerOpt: socket.WithCurveServer(service.KeyPair(), trusted),
		dealerOpt: socket.WithCurveClient(service.Public, own.KeyPair()),
		own:       own.Public,
	}, nil
}

// loadOrCreateCert loads the certificate at path (with its secret), or
// makes and saves a new one.
func loadOrCreateCert(path string) (*curve.Certificate, error) {
	c, err := curve.LoadCertificate(path)
	switch {
	case err == nil && !c.HasSecret():
		return nil, fmt.Errorf("%s has no secret certificate next to it", path)
	case err == nil:
		return c, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	if c, err = curve.NewCertificate(map[string]string{"name": filepath.Base(path)}); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return c, c.Save(path)
}

// prepareCurveDir makes the service certificate and the instances'
// certificates that are missing in dir, for the demo: every instance is
// trusted from its first start.
func prepareCurveDir(dir string, instances int) error {
	if _, err := loadOrCreateCert(filepath.Join(dir, serviceCertName)); err != nil {
		return err
	}
	for i := range instances {
		if _, err := loadOrCreateCert(instanceCertPath(dir, i)); err != nil {
			return err
		}
	}
	return nil
}

// isRefusal reports whether a failed handshake was a refusal: by this
// side's authenticator, by the peer, or over keys.
func isRefusal(err error) bool {
	return errors.Is(err, socket.ErrAuthFailed) || errors.Is(err, socket.ErrDecrypt) || errors.Is(err, socket.ErrMechanismMismatch)
}

// countRefusals counts the handshakes the ROUTER refused and those of
// the DEALER that peers refused, until both sockets close.
func countRefusals(router, dealer *socket.Socket, st *counters) (wait func()) {
	done := make(chan struct{}, 2)
	watch := func(s *socket.Socket, n func()) {
		events, _ := s.Monitor() // closed when the socket closes
		go func() {
			defer func() { done <- struct{}{} }()
			for e := range events {
				if e.Type == socket.EventHandshakeFailed && isRefusal(e.Err) {
					n()
				}
			}
		}()
	}
	watch(router, func() { st.refused.Add(1) })
	watch(dealer, func() { st.refusedByPeers.Add(1) })
	return func() { <-done; <-done }
}
