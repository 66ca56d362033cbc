package main

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestTopicFiltering(t *testing.T) {
	require.NoError(t, run(500))
	require.Error(t, run(0))
}
