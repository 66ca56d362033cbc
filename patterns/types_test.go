package patterns

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTypeTable checks the socket type table against libzmq's numbering,
// names and compatibility rules, and that each type's state machine has
// exactly the capabilities its type implies.
func TestTypeTable(t *testing.T) {
	tests := []struct {
		typ                     Type
		name                    string
		num                     int
		peers                   []string
		identity                bool
		sends, recvs, subscribe bool
	}{
		{Pair, "PAIR", 0, []string{"PAIR"}, false, true, true, false},
		{Pub, "PUB", 1, []string{"SUB", "XSUB"}, false, true, false, false},
		{Sub, "SUB", 2, []string{"PUB", "XPUB"}, false, false, true, true},
		{Req, "REQ", 3, []string{"REP", "ROUTER"}, true, true, true, false},
		{Rep, "REP", 4, []string{"REQ", "DEALER"}, false, true, true, false},
		{Dealer, "DEALER", 5, []string{"REP", "DEALER", "ROUTER"}, true, true, true, false},
		{Router, "ROUTER", 6, []string{"REQ", "DEALER", "ROUTER"}, true, true, true, false},
		{Pull, "PULL", 7, []string{"PUSH"}, false, false, true, false},
		{Push, "PUSH", 8, []string{"PULL"}, false, true, false, false},
		{XPub, "XPUB", 9, []string{"SUB", "XSUB"}, false, true, true, true},
		{XSub, "XSUB", 10, []string{"PUB", "XPUB"}, false, true, true, true},
	}
	require.Len(t, Types(), len(tests))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.num, int(tc.typ))
			assert.Equal(t, tc.name, tc.typ.String())
			got, ok := TypeByName(tc.name)
			require.True(t, ok)
			assert.Equal(t, tc.typ, got)
			got, ok = TypeByName(strings.ToLower(tc.name))
			require.True(t, ok)
			assert.Equal(t, tc.typ, got)
			assert.ElementsMatch(t, tc.peers, tc.typ.PeerNames())
			for _, other := range Types() {
				want := false
				for _, n := range tc.peers {
					want = want || n == other.String()
				}
				assert.Equal(t, want, tc.typ.Compatible(other), "%s with %s", tc.typ, other)
				assert.Equal(t, tc.typ.Compatible(other), other.Compatible(tc.typ), "compatibility is symmetric")
			}
			assert.Equal(t, tc.identity, tc.typ.AnnouncesIdentity())
			assert.Equal(t, tc.typ == Router, tc.typ.AttachOnHandshake())
			assert.Equal(t, tc.typ == Push || tc.typ == Dealer, tc.typ.ReroutesLostPeer())

			pat, err := New(tc.typ, Config{})
			require.NoError(t, err)
			defer pat.Close()
			_, sends := pat.(Sender)
			_, recvs := pat.(Receiver)
			_, subscribes := pat.(Subscriber)
			assert.Equal(t, tc.sends, sends, "Sender")
			assert.Equal(t, tc.recvs, recvs, "Receiver")
			assert.Equal(t, tc.subscribe, subscribes, "Subscriber")
		})
	}
	_, ok := TypeByName("RADIO")
	assert.False(t, ok)
	assert.False(t, Type(11).Valid())
	assert.Equal(t, "Type(11)", Type(11).String())
	_, err := New(Type(-1), Config{})
	assert.ErrorIs(t, err, ErrNotSupported)
}

func TestDropReasonNames(t *testing.T) {
	for r := DropReason(1); r < NumDropReasons; r++ {
		assert.NotContains(t, r.String(), "DropReason(", "reason %d has a name", int(r))
	}
	assert.Equal(t, "DropReason(0)", DropReason(0).String())
	assert.Equal(t, "hwm", DropHWM.String())
}
