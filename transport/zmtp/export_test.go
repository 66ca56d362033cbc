package zmtp

// GrowStart is growStart for the external tests (reader_socket_test.go):
// the least a growing body reserves once its first bytes have arrived.
const GrowStart = growStart
