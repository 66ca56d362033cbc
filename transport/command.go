package transport

import "fmt"

// MaxCommandSize bounds a command written with Conn.WriteCommand: its name
// and data together. Every brook peer accepts commands this big whatever
// its maximum message size, so one command can carry thousands of
// acknowledged offset ranges.
const MaxCommandSize = 64 << 10

// CheckCommand validates a command for WriteCommand: a name of 1 to 255
// bytes that is not one of the protocol's own commands, and a total size
// of at most MaxCommandSize. The error matches ErrBadCommand.
func CheckCommand(name string, data []byte) error {
	switch {
	case len(name) == 0 || len(name) > 255:
		return fmt.Errorf("%w: name of %d bytes (1..255)", ErrBadCommand, len(name))
	case len(name)+len(data) > MaxCommandSize:
		return fmt.Errorf("%w: %s of %d bytes exceeds %d", ErrBadCommand, name, len(name)+len(data), MaxCommandSize)
	case ReservedCommand(name):
		return fmt.Errorf("%w: %s is a ZMTP command of the transport's own", ErrBadCommand, name)
	}
	return nil
}

// ReservedCommand reports whether name is one of the commands the ZMTP
// engine itself sends and acts on (RFC 23, 37, 24, 26, 48), which
// WriteCommand refuses and which never reach a CommandHandler.
func ReservedCommand(name string) bool {
	switch name {
	case "READY", "ERROR", "SUBSCRIBE", "CANCEL", "PING", "PONG",
		"HELLO", "WELCOME", "INITIATE", "MESSAGE", "JOIN", "LEAVE":
		return true
	}
	return false
}
