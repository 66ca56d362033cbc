package zmtp

// Exports for the external tests (reader_socket_test.go).

// GrowStart is growStart: the least a growing body reserves once its
// first bytes have arrived.
const GrowStart = growStart

// LiveHeap is liveHeap: the live heap after a full collection.
var LiveHeap = liveHeap
