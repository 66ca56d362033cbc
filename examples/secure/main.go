// Command secure runs a CURVE service with an allow-list: a ROUTER server
// that admits only the clients whose public certificates are in a
// directory, a DEALER client on that list that makes requests, and a
// stranger whose handshake is refused. Traffic is encrypted end to end;
// the server sees who each request is from.
//
//	go run ./examples/secure                      # certificates in a temp dir
//	go run ./examples/secure -certs ./keys -endpoint ipc:///tmp/secure
//
// With -certs, existing certificates there are used (server.key and
// client.key with their _secret files, as pyzmq's
// zmq.auth.create_certificates or CZMQ write them) and missing ones are
// created; clients/ holds the allow-list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/brookmq/brook/auth"
	"github.com/brookmq/brook/curve"
	"github.com/brookmq/brook/socket"
)

func main() {
	endpoint := flag.String("endpoint", "tcp://127.0.0.1:0", "endpoint the server binds (tcp, ipc, zstd+tcp)")
	certs := flag.String("certs", "", "certificate directory (default: a new temporary one)")
	n := flag.Int("n", 5, "requests the client makes")
	flag.Parse()
	if err := run(os.Stdout, *endpoint, *certs, *n); err != nil {
		log.SetFlags(0)
		log.Fatalf("secure: %v", err)
	}
}

func run(out io.Writer, endpoint, certDir string, n int) error {
	if n < 1 {
		return errors.New("need -n >= 1")
	}
	if certDir == "" {
		dir, err := os.MkdirTemp("", "brook-secure-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		certDir = dir
	}
	server, err := certificate(certDir, "server")
	if err != nil {
		return err
	}
	client, err := certificate(certDir, "client")
	if err != nil {
		return err
	}
	// The allow-list: the client's public certificate, nothing secret.
	allowed := filepath.Join(certDir, "clients")
	if err := os.MkdirAll(allowed, 0o755); err != nil {
		return err
	}
	if err := client.SavePublic(filepath.Join(allowed, "client.key")); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	authn := auth.New()
	if err := authn.UseCertificateDir(allowed); err != nil {
		return err
	}
	srv, err := socket.New(socket.Router, socket.WithCurveServer(server.KeyPair(), authn))
	if err != nil {
		return err
	}
	defer srv.Close()
	events, stop := srv.Monitor()
	defer stop()
	if err := srv.Bind(endpoint); err != nil {
		return err
	}
	fmt.Fprintf(out, "server %s listening on %s\n", server.Public, srv.LastEndpoint())

	served := make(chan error, 1)
	go func() { served <- serve(ctx, srv, n) }()

	// A client on the list: requests and replies, encrypted.
	cli, err := socket.New(socket.Dealer, socket.WithCurveClient(server.Public, client.KeyPair()))
	if err != nil {
		return err
	}
	defer cli.Close()
	if err := cli.Connect(srv.LastEndpoint()); err != nil {
		return err
	}
	for i := range n {
		if err := cli.Send(ctx, socket.NewMsg([]byte(fmt.Sprintf("request %d", i)))); err != nil {
			return err
		}
		reply, err := cli.Recv(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "client got %q\n", reply.Frames[0])
	}
	if err := <-served; err != nil {
		return err
	}

	// A stranger, whose key is on no list: refused at the handshake.
	strangerKeys, err := curve.NewKeyPair()
	if err != nil {
		return err
	}
	stranger, err := socket.New(socket.Dealer, socket.WithCurveClient(server.Public, strangerKeys))
	if err != nil {
		return err
	}
	defer stranger.Close()
	strangerEvents, stopStranger := stranger.Monitor()
	defer stopStranger()
	if err := stranger.Connect(srv.LastEndpoint()); err != nil {
		return err
	}
	srvErr, err := handshakeFailure(ctx, events)
	if err != nil {
		return err
	}
	cliErr, err := handshakeFailure(ctx, strangerEvents)
	if err != nil {
		return err
	}
	if !errors.Is(srvErr, socket.ErrAuthFailed) || !errors.Is(cliErr, socket.ErrAuthFailed) {
		return fmt.Errorf("stranger: want authentication failures, got %v and %v", srvErr, cliErr)
	}
	fmt.Fprintf(out, "server refused the stranger: %v\n", srvErr)
	fmt.Fprintf(out, "stranger was told: %v\n", cliErr)
	return nil
}

// serve answers n requests, each with the user id the authenticator gave
// its sender (the client's key in Z85).
func serve(ctx context.Context, srv *socket.Socket, n int) error {
	for range n {
		d, err := srv.RecvDelivery(ctx)
		if err != nil {
			return err
		}
		id, body := d.Msg.Frames[0], d.Msg.Frames[1]
		reply := fmt.Sprintf("%s, from %s", body, d.Peer.UserID[:8]+"...")
		if err := srv.Send(ctx, socket.NewMsg(id, []byte(reply))); err != nil {
			return err
		}
	}
	return nil
}

// certificate loads dir/name.key (and its secret), or creates and saves
// a new one.
func certificate(dir, name string) (*curve.Certificate, error) {
	path := filepath.Join(dir, name+".key")
	c, err := curve.LoadCertificate(path)
	switch {
	case err == nil && !c.HasSecret():
		return nil, fmt.Errorf("%s has no secret certificate next to it", path)
	case err == nil:
		return c, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	c, err = curve.NewCertificate(map[string]string{"name": name})
	if err != nil {
		return nil, err
	}
	return c, c.Save(path)
}

// handshakeFailure waits for the next failed handshake on a monitor.
func handshakeFailure(ctx context.Context, events <-chan socket.Event) (error, error) {
	for {
		select {
		case e, ok := <-events:
			if !ok {
				return nil, errors.New("monitor closed")
			}
			if e.Type == socket.EventHandshakeFailed {
				return e.Err, nil
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
