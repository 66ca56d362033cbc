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

// CommandBatcher is implemented by connections whose batched reads
// (a ReadMsgs method returning the messages that have already arrived,
// several at a time) can read on past commands. By default a command
// handler runs only once every message before it has been returned, so
// a command ends a batch; a reader that works out for itself which
// message each command belongs to can let chosen commands through and
// keep its batches whole.
type CommandBatcher interface {
	// SetBatchedCommands lets ReadMsgs read on past a command for which
	// batched reports true (it gets the command's name, valid only
	// during the call): the command's handler then runs while messages
	// before it in the same batch have been read but not yet returned.
	// Call it before the first read.
	SetBatchedCommands(batched func(name []byte) bool)
	// MsgsRead is the number of messages ReadMsgs has read so far,
	// including those of the batch being made: a command handler that
	// sees n runs for the command in front of the message ReadMsgs reads
	// as number n (counting from 0).
	MsgsRead() uint64
}
