package main

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBrokeredRequestReply(t *testing.T) {
	require.NoError(t, run(3, 2, 200))
	require.Error(t, run(0, 1, 1))
}
